import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { AppError } from '../errors.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Open routes skip the API key: health, metrics, docs, and webhooks (which check their own secret). */
    public?: boolean
  }
  interface FastifyRequest {
    apiKey?: string
  }
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest()

/** Constant-time membership test: hashing first makes every comparison the same length. */
export function createSecretMatcher (secrets: readonly string[]): (candidate: string | undefined) => boolean {
  const digests = secrets.map(digest)
  return (candidate) => {
    if (candidate === undefined || candidate === '') return false
    const probe = digest(candidate)
    let match = false
    for (const known of digests) match = timingSafeEqual(probe, known) || match
    return match
  }
}

export function apiKeyOf (request: FastifyRequest): string | undefined {
  const header = request.headers['x-api-key']
  return typeof header === 'string' ? header : undefined
}

export function registerAuth (app: FastifyInstance, apiKeys: readonly string[]): void {
  if (apiKeys.length === 0) return
  const isKnown = createSecretMatcher(apiKeys)
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config.public === true) return
    const key = apiKeyOf(request)
    if (!isKnown(key)) throw new AppError('UNAUTHORIZED', 'A valid x-api-key header is required')
    request.apiKey = key
  })
}
