import helmet from 'helmet'
import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Config } from '../config.js'
import type { ApiKeyIdentity } from './auth.js'

/**
 * helmet's headers, decided once at start and applied to every response (the Fastify plugin builds the middleware
 * again on every request). Every response is JSON except the docs UI, which sets its own policy (swagger-ui
 * staticCSP), so there is no Content-Security-Policy here. Exported for the responses Fastify answers before any
 * hook runs (a malformed URL, src/app.ts).
 */
export const securityHeaders = helmet({ contentSecurityPolicy: false })

/**
 * Helmet's headers and the per-client rate limit: RATE_LIMIT_MAX requests per RATE_LIMIT_WINDOW per API key, or
 * per address without a valid one — API calls, guessed keys, wrong webhook secrets and unknown paths (404s,
 * registerNotFound in ./error-handler.ts) alike. Health, metrics, docs and webhooks presenting the secret are not limited.
 */
export async function registerSecurity (app: FastifyInstance, config: Config, identify: (request: FastifyRequest) => ApiKeyIdentity): Promise<void> {
  app.addHook('onRequest', (request, reply, done) => { securityHeaders(request.raw, reply.raw, (error?: unknown) => { done(error as Error | undefined) }) })
  await app.register(rateLimit, {
    max: config.rateLimit.max,
    timeWindow: config.rateLimit.timeWindow,
    // Routes marked rateLimit: false after this plugin saw them (the docs UI's routes) are exempt too, and so
    // is a webhook that presents the secret (Infobip); a wrong secret is counted (src/plugins/auth.ts).
    allowList: (request) => request.routeOptions.config.rateLimit === false || request.routeOptions.config.webhookSecret?.(request) === true,
    // Per API key when the key is valid; otherwise per client address, so made-up keys share one bucket.
    keyGenerator: (request) => {
      const { id } = identify(request)
      return id !== null ? `key:${id}` : `ip:${request.ip}`
    },
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      error: 'Too Many Requests',
      code: 'RATE_LIMITED',
      message: `Rate limit exceeded: at most ${context.max} requests per ${config.rateLimit.timeWindow}; retry in ${context.after}`
    })
  })
}
