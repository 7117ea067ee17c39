import type { Config } from '../config.js'
import type { DatabaseHandle } from '../db/database.js'
import * as outbox from '../db/repositories/outbox.js'
import type { Log } from '../logger.js'
import type { Metrics } from '../metrics.js'
import { createCampaignRenderer, createCampaignsService } from './campaigns.js'
import type { Clock } from './clock.js'
import { compliancePolicy, createCompliance } from './compliance.js'
import { createConsentLedger } from './consent.js'
import { createImportReader } from './contact-import-reader.js'
import { createContactsService } from './contacts.js'
import { createDeliveryReports } from './delivery-reports.js'
import { createDispatcher, type FaultInjector } from './dispatcher.js'
import { createIdempotency } from './idempotency.js'
import { createInbound } from './inbound.js'
import { createInfobipProvider } from './infobip.js'
import { createMessageQueries } from './messages.js'
import type { SmsProvider } from './provider.js'
import { createSystemReplies } from './replies.js'
import { createSandboxProvider } from './sandbox.js'
import { createSendingService, notifyUrl } from './sending.js'
import { createLocalThrottle, createSharedThrottle } from './throttle.js'

/** How often the campaign scheduler runs (ms). */
const CAMPAIGN_TICK_MS = 1000

export interface ServiceDeps {
  clock: Clock
  log: Log
  metrics: Metrics
  /** Crash points for fault-injection tests. */
  faults?: FaultInjector | undefined
}

/**
 * The one place the service is wired: config + database → the services the controllers call and the background
 * workers (the outbox dispatcher, its orphan settler, key purging, the import reader thread). Nothing here listens or starts: `workers.start()`
 * is called by `server.ts` after listen (and by tests, or tests drive `dispatcher.tick()` step by step).
 */
export function createServices (config: Config, database: DatabaseHandle, deps: ServiceDeps) {
  const { db, dialect } = database
  const { clock, log, metrics } = deps

  let provider: SmsProvider
  const sandbox = config.infobip === null ? createSandboxProvider({ log }) : null
  if (config.infobip !== null) {
    provider = createInfobipProvider({ ...config.infobip, ...config.provider, log, metrics })
  } else {
    log.warn('INFOBIP_BASE_URL and INFOBIP_API_KEY are not set: using the SANDBOX transport, no real SMS will be sent')
    provider = sandbox!
  }

  const throttleOptions = { ratePerSecond: config.sendRatePerSecond }
  const throttle = dialect === 'postgres' ? createSharedThrottle(db, throttleOptions) : createLocalThrottle(throttleOptions)
  const deliveryReports = createDeliveryReports({ db, clock })
  sandbox?.onDeliveryReports(async (reports) => await deliveryReports.apply(reports))
  const compliance = createCompliance({ db, dialect, config, metrics })
  const policy = compliancePolicy(config)
  const dispatcher = createDispatcher({
    db,
    dialect,
    provider,
    throttle,
    deliveryReports,
    clock,
    log,
    metrics,
    policy,
    batchSize: config.sendBatchSize,
    maxInFlight: config.sendConcurrency,
    leaseMs: config.dispatch.leaseMs,
    settleMs: config.provider.outcomeSettleMs,
    idempotent: config.provider.idempotency,
    notifyUrl: notifyUrl(config),
    sendingCampaigns: async () => await outbox.listSendingCampaigns(db),
    render: createCampaignRenderer(),
    soleDispatcher: dialect === 'sqlite',
    faults: deps.faults
  })
  const sending = createSendingService({ config, clock, compliance, dispatcher, db, log })
  const idempotency = createIdempotency({ db, dialect, clock })
  const replies = createSystemReplies({ db, clock, wake: dispatcher.wake, defaultFrom: config.senderId })
  const ledger = createConsentLedger({ clock })
  const inbound = createInbound({ db, dialect, config, clock, ledger, replies, log, handOversSettled: dispatcher.handOversSettled })
  const importReader = createImportReader()
  const contacts = createContactsService({ db, dialect, clock, ledger, defaultCountry: config.defaultCountry, log, importReader })
  const messages = createMessageQueries(db, { defaultCountry: config.defaultCountry })
  const campaigns = createCampaignsService({ db, dialect, config, clock, sending, wake: dispatcher.wake })

  let purgeTimer: NodeJS.Timeout | null = null
  // The campaign scheduler: starts scheduled campaigns when due, completes finished ones (state in the database).
  let campaignTimer: NodeJS.Timeout | null = null
  let campaignTick: Promise<unknown> | null = null
  const workers = {
    async start (): Promise<void> {
      importReader.start()
      await dispatcher.start()
      purgeTimer = setInterval(() => {
        idempotency.purgeExpired().catch((error: unknown) => log.warn({ err: error }, 'Could not purge expired idempotency keys'))
      }, 60 * 60 * 1000)
      purgeTimer.unref()
      campaignTimer = setInterval(() => {
        campaignTick ??= campaigns.tick()
          .catch((error: unknown) => log.warn({ err: error }, 'Campaign scheduler tick failed; will retry'))
          .finally(() => { campaignTick = null })
      }, CAMPAIGN_TICK_MS)
      campaignTimer.unref()
    },
    /** Stops claiming new work and waits for batches in flight to be recorded. */
    async stop (): Promise<void> {
      if (purgeTimer !== null) clearInterval(purgeTimer)
      purgeTimer = null
      if (campaignTimer !== null) clearInterval(campaignTimer)
      campaignTimer = null
      await campaignTick
      await compliance.drain()
      await dispatcher.stop()
    }
  }

  return {
    provider,
    dispatcher,
    compliance,
    sending,
    idempotency,
    deliveryReports,
    inbound,
    contacts,
    messages,
    campaigns,
    workers,
    async close (): Promise<void> {
      await workers.stop()
      await provider.close()
      await importReader.close()
    }
  }
}

export type Services = ReturnType<typeof createServices>
