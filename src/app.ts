import { randomUUID } from 'node:crypto'
import Fastify from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { App } from './app-type.js'
import type { DestinationStream } from 'pino'
import { startupWarnings, type Config } from './config.js'
import { createCampaignsController } from './controllers/campaigns.js'
import { createContactsController } from './controllers/contacts.js'
import { createHealthController } from './controllers/health.js'
import { createInboundMessagesController } from './controllers/inbound-messages.js'
import { createMessagesController } from './controllers/messages.js'
import { createSmsController } from './controllers/sms.js'
import { createWebhooksController } from './controllers/webhooks.js'
import { migrateToLatest, openDatabase, pingDatabase, type DatabaseHandle } from './db/database.js'
import { countByStatus } from './db/repositories/messages.js'
import { countByStatusFor } from './db/repositories/campaigns.js'
import { listSendingCampaigns, pendingDepth } from './db/repositories/outbox.js'
import { loggerOptions, RequestLogController, safeRequestId } from './logger.js'
import { createMetrics } from './metrics.js'
import { AppError } from './errors.js'
import { ErrorResponse } from './schemas/common.js'
import { createApiKeyCheck, registerAuth } from './plugins/auth.js'
import { registerDocs } from './plugins/docs.js'
import { answerFrameworkError, registerErrorHandler, registerNotFound } from './plugins/error-handler.js'
import { registerMetrics } from './plugins/metrics.js'
import { registerSecurity } from './plugins/security.js'
import { registerTextGuard } from './plugins/text-guard.js'
import { schemaController } from './plugins/validation.js'
import { campaignRoutes } from './routes/campaigns.js'
import { contactRoutes } from './routes/contacts.js'
import { healthRoutes } from './routes/health.js'
import { inboundMessageRoutes } from './routes/inbound-messages.js'
import { messageRoutes } from './routes/messages.js'
import { smsRoutes } from './routes/sms.js'
import { webhookRoutes } from './routes/webhooks.js'
import { systemClock, type Clock } from './services/clock.js'
import type { Dispatcher, FaultInjector } from './services/dispatcher.js'
import { createServices, type Services } from './services/index.js'

export type { App } from './app-type.js'

export interface AppDeps {
  clock?: Clock
  /** Log destination (tests capture it); defaults to stdout, pretty outside production. */
  logStream?: DestinationStream
  /** An already-open database; the app then leaves closing it to the caller. */
  database?: DatabaseHandle
  /** Crash points in the dispatcher, for fault-injection tests. */
  faults?: FaultInjector
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Background work (the outbox dispatcher): `server.ts` starts it after listen; closing the app stops it. */
    workers: Services['workers']
    dispatcher: Dispatcher
  }
}

/** Builds the whole service — every plugin, route and resource — without listening. */
export async function buildApp (config: Config, deps: AppDeps = {}): Promise<App> {
  const app: App = Fastify({
    logger: loggerOptions(config, deps.logStream),
    bodyLimit: config.bodyLimitBytes,
    genReqId: (request) => safeRequestId(request.headers['x-request-id']) ?? randomUUID(),
    requestIdHeader: false,
    logController: new RequestLogController(),
    schemaController: schemaController(),
    frameworkErrors: answerFrameworkError,
    return503OnClosing: true,
    forceCloseConnections: 'idle'
  }).withTypeProvider<TypeBoxTypeProvider>()

  // The API takes JSON (and CSV on the import route, which has its own parsers): a text/plain body is a 415, not a
  // string handed to a schema that expects an object. JSON is read as UTF-8 only (RFC 8259 §8.1): another declared
  // charset is a 415, and bytes that are not UTF-8 a 400, never a text with U+FFFD in place of what was meant.
  app.removeContentTypeParser(['text/plain', 'application/json'])
  const parseJson = app.getDefaultJsonParser('error', 'error')
  const utf8 = new TextDecoder('utf-8', { fatal: true })
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(request.headers['content-type'] ?? '')?.[1]?.toLowerCase()
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      done(new AppError('UNSUPPORTED_MEDIA_TYPE', `JSON bodies are UTF-8; charset=${charset.slice(0, 40)} is not taken`), undefined)
      return
    }
    let text: string
    try {
      text = utf8.decode(body as Buffer)
    } catch {
      done(new AppError('INVALID_TEXT', 'The body is not valid UTF-8: send JSON encoded as UTF-8'), undefined)
      return
    }
    parseJson(request, text, done)
  })

  const clock = deps.clock ?? systemClock
  const metrics = createMetrics()
  const database = deps.database ?? openDatabase(config.databaseUrl, {
    onConnectionError: (error) => app.log.warn({ reason: error.message }, 'Database connection lost; it will be replaced')
  })
  const { db } = database
  let shuttingDown = false
  app.addHook('onClose', async () => {
    if (deps.database === undefined) await database.close()
  })
  await migrateToLatest(db)

  if (config.apiKeys.length === 0) app.log.warn('API_KEYS is not set: the API is open to anyone who can reach it')
  for (const warning of startupWarnings(config)) app.log.warn(warning)
  const services = createServices(config, database, { clock, log: app.log, metrics, faults: deps.faults })
  const { provider, dispatcher } = services
  app.decorate('workers', services.workers)
  app.decorate('dispatcher', dispatcher)

  app.addHook('preClose', async () => {
    shuttingDown = true
  })
  // Responses finishing during shutdown close their connection: a client's idle keep-alive socket
  // would otherwise hold the server open until its keep-alive timeout.
  // Hooks that run on every request take a callback, not a promise: no promise and microtask each.
  app.addHook('onSend', (request, reply, payload, done) => {
    // The id every log line of this request carries, so a client's report can be matched to the logs.
    reply.header('x-request-id', request.id)
    if (shuttingDown) reply.header('connection', 'close')
    done(null, payload)
  })
  app.addHook('onClose', async () => {
    // In-flight sends finish and are recorded before the database goes away.
    await services.close()
  })

  app.addSchema(ErrorResponse)
  registerErrorHandler(app, { exposeDetails: !config.isProduction })
  const identify = createApiKeyCheck(config.apiKeys)
  await registerSecurity(app, config, identify)
  registerNotFound(app, app.rateLimit())
  registerAuth(app, identify, config.apiKeys.length > 0)
  registerTextGuard(app)
  await registerDocs(app)
  registerMetrics(app, {
    metrics,
    refresh: async () => {
      metrics.messagesByStatus.reset()
      for (const { status, count } of await countByStatus(db)) metrics.messagesByStatus.set({ status }, count)
      metrics.setCircuitState(provider.circuitState())
      metrics.dispatchQueueDepth.set(dispatcher.depth())
      metrics.outboxDepth.reset()
      for (const { status, count } of await pendingDepth(db)) metrics.outboxDepth.set({ status }, count)
      metrics.campaignProgress.reset()
      const sending = await listSendingCampaigns(db)
      for (const [campaign, counts] of await countByStatusFor(db, sending.map((c) => c.id))) {
        const total = Object.values(counts).reduce((a, b) => a + b, 0)
        const open = counts.queued + counts.deferred + counts.sending
        metrics.campaignProgress.set({ campaign }, total === 0 ? 0 : (total - open) / total)
      }
    }
  })

  healthRoutes(app, createHealthController({
    pingDatabase: async () => await pingDatabase(db),
    circuitState: () => provider.circuitState(),
    isShuttingDown: () => shuttingDown,
    dispatcher
  }))
  smsRoutes(app, createSmsController({ sending: services.sending, idempotency: services.idempotency, config }))
  messageRoutes(app, createMessagesController(services.messages))
  webhookRoutes(app, createWebhooksController({ webhookSecret: config.webhookSecret, deliveryReports: services.deliveryReports, inbound: services.inbound }))
  contactRoutes(app, createContactsController(services.contacts, { importLimitBytes: config.importLimitBytes }))
  inboundMessageRoutes(app, createInboundMessagesController(services.inbound))
  campaignRoutes(app, createCampaignsController(services.campaigns))

  return app
}
