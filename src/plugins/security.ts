import { createHash } from 'node:crypto'
import helmet from '@fastify/helmet'
import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../config.js'
import { apiKeyOf, createSecretMatcher } from './auth.js'

export async function registerSecurity (app: FastifyInstance, config: Config): Promise<void> {
  await app.register(helmet, {
    // The docs UI loads its own scripts and styles; everything else is JSON.
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'validator.swagger.io']
      }
    }
  })
  const isKnown = createSecretMatcher(config.apiKeys)
  await app.register(rateLimit, {
    max: config.rateLimit.max,
    timeWindow: config.rateLimit.timeWindow,
    // Routes marked rateLimit: false after this plugin saw them (the docs UI's routes) are exempt too.
    allowList: (request) => request.routeOptions.config.rateLimit === false,
    // Per API key when the key is valid; otherwise per client address, so made-up keys share one bucket.
    keyGenerator: (request) => {
      const key = apiKeyOf(request)
      return key !== undefined && isKnown(key) ? `key:${createHash('sha256').update(key).digest('hex').slice(0, 24)}` : `ip:${request.ip}`
    },
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      error: 'Too Many Requests',
      code: 'RATE_LIMITED',
      message: `Rate limit exceeded: at most ${context.max} requests per ${config.rateLimit.timeWindow}; retry in ${context.after}`
    })
  })
}
