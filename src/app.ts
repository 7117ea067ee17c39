import { randomUUID } from 'node:crypto'
import Fastify from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { App } from './app-type.js'
import type { DestinationStream } from 'pino'
import type { Config } from './config.js'
import { createContactsController } from './controllers/contacts.js'
import { createHealthController } from './controllers/health.js'
import { createMessagesController } from './controllers/messages.js'
import { createSmsController } from './controllers/sms.js'
import { createWebhooksController } from './controllers/webhooks.js'
import { migrateToLatest, openDatabase, pingDatabase, type DatabaseHandle } from './db/database.js'
import { countByStatus } from './db/repositories/messages.js'
import { loggerOptions, RequestLogController, safeRequestId } from './logger.js'
import { createMetrics } from './metrics.js'
import { ErrorResponse } from './schemas/common.js'
import { createApiKeyCheck, registerAuth } from './plugins/auth.js'
import { registerDocs } from './plugins/docs.js'
import { registerErrorHandler } from './plugins/error-handler.js'
import { registerMetrics } from './plugins/metrics.js'
import { registerSecurity } from './plugins/security.js'
import { registerTextGuard } from './plugins/text-guard.js'
import { schemaController } from './plugins/validation.js'
import { contactRoutes } from './routes/contacts.js'
import { healthRoutes } from './routes/health.js'
import { messageRoutes } from './routes/messages.js'
import { smsRoutes } from './routes/sms.js'
import { webhookRoutes } from './routes/webhooks.js'
import { systemClock, type Clock } from './services/clock.js'
import { createCompliance } from './services/compliance.js'
import { createContactsService } from './services/contacts.js'
import { createDeliveryReports } from './services/delivery-reports.js'
import { createIdempotency } from './services/idempotency.js'
import { createInbound } from './services/inbound.js'
import { createInfobipProvider } from './services/infobip.js'
import { createMessageQueries } from './services/messages.js'
import type { SmsProvider } from './services/provider.js'
import { createSystemReplies } from './services/replies.js'
import { createReconciler } from './services/reconciler.js'
import { createSandboxProvider } from './services/sandbox.js'
import { createSendQueue } from './services/send-queue.js'
import { createSendingService, createSendRecorder } from './services/sending.js'

export type { App } from './app-type.js'

export interface AppDeps {
  clock?: Clock
  /** Log destination (tests capture it); defaults to stdout, pretty outside production. */
  logStream?: DestinationStream
  /** An already-open database; the app then leaves closing it to the caller. */
  database?: DatabaseHandle
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
    return503OnClosing: true,
    forceCloseConnections: 'idle'
  }).withTypeProvider<TypeBoxTypeProvider>()

  const clock = deps.clock ?? systemClock
  const metrics = createMetrics()
  const database = deps.database ?? openDatabase(config.databaseUrl, {
    onConnectionError: (error) => app.log.warn({ reason: error.message }, 'Database connection lost; it will be replaced')
  })
  const { db, dialect } = database
  let shuttingDown = false
  app.addHook('onClose', async () => {
    if (deps.database === undefined) await database.close()
  })
  await migrateToLatest(db)

  let provider: SmsProvider
  const sandbox = config.infobip === null ? createSandboxProvider({ log: app.log }) : null
  if (config.infobip !== null) {
    provider = createInfobipProvider({ ...config.infobip, ...config.provider, log: app.log, metrics })
  } else {
    app.log.warn('INFOBIP_BASE_URL and INFOBIP_API_KEY are not set: using the SANDBOX transport, no real SMS will be sent')
    provider = sandbox!
  }
  if (config.apiKeys.length === 0) app.log.warn('API_KEYS is not set: the API is open to anyone who can reach it')

  const queue = createSendQueue({
    provider,
    ratePerSecond: config.sendRatePerSecond,
    maxBatch: config.sendBatchSize,
    maxInFlight: config.sendConcurrency,
    hooks: createSendRecorder({ db, clock }),
    log: app.log,
    metrics
  })
  const compliance = createCompliance({ db, dialect, config, metrics })
  const sending = createSendingService({ config, clock, compliance, queue, log: app.log })
  const idempotency = createIdempotency({ db, clock, waitMs: config.provider.timeoutMs * (config.provider.retry.retries + 1) + config.provider.retry.maxDelayMs * config.provider.retry.retries })
  const deliveryReports = createDeliveryReports({ db, clock })
  sandbox?.onDeliveryReports(async (reports) => await deliveryReports.apply(reports))
  const replies = createSystemReplies({ db, clock, queue, log: app.log, defaultFrom: config.senderId })
  const inbound = createInbound({ db, dialect, config, clock, replies, log: app.log })
  const contactsService = createContactsService({ db, dialect, clock })

  const reconciler = createReconciler({
    db, provider, deliveryReports, clock, log: app.log, staleAfterMs: config.reconcile.afterMs, busy: () => queue.activeIds()
  })
  let reconciling: Promise<unknown> | null = null
  const reconcile = (): void => {
    if (reconciling !== null || shuttingDown) return
    reconciling = reconciler.run()
      .catch((error: unknown) => app.log.warn({ code: (error as { code?: string }).code }, 'Reconciliation failed; will retry'))
      .finally(() => { reconciling = null })
  }
  const reconcileTimer = config.reconcile.intervalMs > 0 ? setInterval(reconcile, config.reconcile.intervalMs) : null
  reconcileTimer?.unref()
  app.addHook('onReady', async () => { if (reconcileTimer !== null) reconcile() })

  const purgeTimer = setInterval(() => {
    idempotency.purgeExpired().catch((error: unknown) => app.log.warn({ err: error }, 'Could not purge expired idempotency keys'))
  }, 60 * 60 * 1000)
  purgeTimer.unref()

  app.addHook('preClose', async () => {
    shuttingDown = true
  })
  // Responses finishing during shutdown close their connection: a client's idle keep-alive socket
  // would otherwise hold the server open until its keep-alive timeout.
  app.addHook('onSend', async (request, reply) => {
    // The id every log line of this request carries, so a client's report can be matched to the logs.
    reply.header('x-request-id', request.id)
    if (shuttingDown) reply.header('connection', 'close')
  })
  app.addHook('onClose', async () => {
    clearInterval(purgeTimer)
    if (reconcileTimer !== null) clearInterval(reconcileTimer)
    await reconciling
    // In-flight sends finish and are recorded before the database goes away.
    await compliance.drain()
    await queue.drain()
    queue.stop()
    await provider.close()
  })

  app.addSchema(ErrorResponse)
  registerErrorHandler(app, { exposeDetails: !config.isProduction })
  const identify = createApiKeyCheck(config.apiKeys)
  await registerSecurity(app, config, identify)
  registerAuth(app, identify, config.apiKeys.length > 0)
  registerTextGuard(app)
  await registerDocs(app)
  registerMetrics(app, {
    metrics,
    refresh: async () => {
      metrics.messagesByStatus.reset()
      for (const { status, count } of await countByStatus(db)) metrics.messagesByStatus.set({ status }, count)
      metrics.setCircuitState(provider.circuitState())
      metrics.dispatchQueueDepth.set(queue.depth())
    }
  })

  healthRoutes(app, createHealthController({
    pingDatabase: async () => await pingDatabase(db),
    circuitState: () => provider.circuitState(),
    isShuttingDown: () => shuttingDown
  }))
  smsRoutes(app, createSmsController({ sending, idempotency, config }))
  messageRoutes(app, createMessagesController(createMessageQueries(db)))
  webhookRoutes(app, createWebhooksController({ webhookSecret: config.webhookSecret, deliveryReports, inbound }))
  contactRoutes(app, createContactsController(contactsService, { importLimitBytes: config.importLimitBytes }))

  return app
}
