import { Type } from 'typebox'
import type { App } from '../app-type.js'
import type { HealthController } from '../controllers/health.js'
import { Readiness } from '../schemas/health.js'

export function healthRoutes (app: App, controller: HealthController): void {
  const open = { public: true, rateLimit: false as const }
  app.get('/health', {
    config: open,
    schema: {
      tags: ['health'],
      summary: 'Liveness: the process answers (never touches the database)',
      security: [],
      response: { 200: Type.Object({ status: Type.Literal('ok'), timestamp: Type.String({ format: 'date-time' }) }) }
    }
  }, async () => controller.liveness())

  app.get('/health/ready', {
    config: open,
    schema: {
      tags: ['health'],
      summary: 'Readiness: database reachable and not shutting down',
      security: [],
      response: { 200: Readiness, 503: Readiness }
    }
  }, async (_request, reply) => {
    const result = await controller.readiness()
    return reply.code(result.status === 'ok' ? 200 : 503).send(result)
  })
}
