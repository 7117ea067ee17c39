import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'

export async function registerDocs (app: FastifyInstance): Promise<void> {
  // Added before the plugins register their routes: an onRoute hook only sees routes added after it.
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/docs')) route.config = { ...route.config, public: true, rateLimit: false } as typeof route.config
  })
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'SMS marketing service',
        description: 'Compliant SMS sending through Infobip: single sends, message records and delivery reports, contacts with an auditable consent trail, and inbound STOP/START/HELP handling.',
        version: '0.1.0'
      },
      components: {
        securitySchemes: { apiKey: { type: 'apiKey', name: 'x-api-key', in: 'header' } }
      },
      security: [{ apiKey: [] }]
    }
  })
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { docExpansion: 'list' },
    staticCSP: true,
    // The UI must load over plain http too (an internal host without TLS): upgrade-insecure-requests
    // would make the browser fetch its scripts over https and show a blank page.
    transformStaticCSP: (header: string) => header.replace(/\s*upgrade-insecure-requests;?/g, '').trim()
  })
}
