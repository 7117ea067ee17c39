import type { FastifyInstance } from 'fastify'
import type { Metrics } from '../metrics.js'

export interface MetricsSources {
  metrics: Metrics
  /** Refreshes gauges that are read from elsewhere (the database, the queue) right before a scrape. */
  refresh: () => Promise<void>
}

export function registerMetrics (app: FastifyInstance, { metrics, refresh }: MetricsSources): void {
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched'
    metrics.httpDuration.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000)
    done()
  })

  app.get('/metrics', {
    config: { public: true, rateLimit: false },
    schema: { hide: true }
  }, async (_request, reply) => {
    await refresh()
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics())
  })
}
