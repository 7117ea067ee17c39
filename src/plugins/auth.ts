import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AppError } from '../errors.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Open routes skip the API key: health, metrics, docs, and webhooks (which check their own secret). */
    public?: boolean
    /**
     * The route authenticates with the webhook secret instead of an API key: true when the request presents it.
     * Checked after the rate limiter like an API key (a wrong secret is counted per address, so it cannot be
     * guessed faster than RATE_LIMIT_MAX per RATE_LIMIT_WINDOW); a request presenting it is exempt from that
     * limit (src/plugins/security.ts), since Infobip posts reports in bursts from a few addresses.
     */
    webhookSecret?: (request: FastifyRequest) => boolean
  }
  interface FastifyRequest {
    apiKey?: string
    /** A non-secret name of the key that authenticated the request ('api-key:<12 hex>'), kept with what it records. */
    apiKeyLabel?: string
  }
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest()

/** Constant-time membership test of a digest: every known one is compared, all the same length. */
function matchesAny (probe: Buffer, known: readonly Buffer[]): boolean {
  let match = false
  for (const k of known) match = timingSafeEqual(probe, k) || match
  return match
}

export function createSecretMatcher (secrets: readonly string[]): (candidate: string | undefined) => boolean {
  const digests = secrets.map(digest)
  return (candidate) => candidate !== undefined && candidate !== '' && matchesAny(digest(candidate), digests)
}

export function apiKeyOf (request: FastifyRequest): string | undefined {
  const header = request.headers['x-api-key']
  return typeof header === 'string' ? header : undefined
}

export interface ApiKeyIdentity {
  /** The presented x-api-key when it is one of API_KEYS. */
  key: string | undefined
  /** A stable, non-secret name for that key (rate-limit bucket), or null. */
  id: string | null
}

/**
 * Checks a request's x-api-key once, however many hooks ask (rate limit, then auth): one hash and one
 * constant-time comparison per known key.
 */
export function createApiKeyCheck (apiKeys: readonly string[]): (request: FastifyRequest) => ApiKeyIdentity {
  const known = apiKeys.map(digest)
  const seen = new WeakMap<FastifyRequest, ApiKeyIdentity>()
  return (request) => {
    let identity = seen.get(request)
    if (identity === undefined) {
      const key = apiKeyOf(request)
      identity = { key: undefined, id: null }
      if (key !== undefined && key !== '') {
        const probe = digest(key)
        if (matchesAny(probe, known)) identity = { key, id: probe.toString('hex').slice(0, 24) }
      }
      seen.set(request, identity)
    }
    return identity
  }
}

/**
 * Requires a valid x-api-key on every route not marked `public` (when API_KEYS is set), and the webhook secret
 * on routes that name one (`config.webhookSecret`, whatever API_KEYS says). The check is each route's last
 * `onRequest` hook, after the rate limiter's (registered before it, src/plugins/security.ts): a client guessing
 * keys or the secret is counted, per address, like any other, and gets 429 once over RATE_LIMIT_MAX instead of
 * unlimited 401s. It still runs before the body is read. Unknown paths answer 404 whatever the key (counted too).
 * @throws AppError UNAUTHORIZED
 */
export function registerAuth (app: FastifyInstance, identify: (request: FastifyRequest) => ApiKeyIdentity, apiKeysRequired: boolean): void {
  const authenticate = (request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void): void => {
    const { webhookSecret, public: open } = request.routeOptions.config
    if (webhookSecret !== undefined) {
      done(webhookSecret(request) ? undefined : new AppError('UNAUTHORIZED', 'Webhook secret missing or wrong'))
      return
    }
    if (open === true || !apiKeysRequired) { done(); return }
    const { key, id } = identify(request)
    if (key === undefined) { done(new AppError('UNAUTHORIZED', 'A valid x-api-key header is required')); return }
    request.apiKey = key
    if (id !== null) request.apiKeyLabel = `api-key:${id.slice(0, 12)}`
    done()
  }
  app.addHook('onRoute', (route) => {
    if (!apiKeysRequired && route.config?.webhookSecret === undefined) return
    const hooks = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest]
    route.onRequest = [...hooks, authenticate]
  })
}
