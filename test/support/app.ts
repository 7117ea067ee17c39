import { Writable } from 'node:stream'
import { buildApp, type App } from '../../src/app.js'
import { loadConfig, type Config } from '../../src/config.js'
import type { Clock } from '../../src/services/clock.js'
import type { FaultInjector } from '../../src/services/dispatcher.js'
import { createTestDatabase, type TestDatabase } from './database.js'
import { startFakeInfobip, type FakeInfobip } from './fake-infobip.js'

// axios honours proxy variables; the fake lives on loopback and must be reached directly.
for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy']) delete process.env[name]

export const API_KEY = 'test-api-key-0123456789'
export const WEBHOOK_SECRET = 'webhook-secret-0123456789abcdef'
/** Monday 2026-06-15 16:00 UTC: noon in New York, inside every quiet-hours window. */
export const DAYTIME = new Date('2026-06-15T16:00:00.000Z')

/**
 * A clock the test moves. Fixed by default; `ticking` makes it run at real speed from where it was set (for
 * tests of real waits measured on the service's clock, such as the settle delay of an unknown hand-over).
 */
export class TestClock implements Clock {
  private setAt = Date.now()
  constructor (public current: Date = DAYTIME, private readonly ticking = false) {}
  now (): Date { return new Date(this.current.getTime() + (this.ticking ? Date.now() - this.setAt : 0)) }
  set (iso: string | Date): void { this.current = new Date(iso); this.setAt = Date.now() }
  advance (ms: number): void { this.current = new Date(this.current.getTime() + ms) }
}

export interface TestContext {
  app: App
  config: Config
  fake: FakeInfobip
  clock: TestClock
  database: TestDatabase
  /** Every log line the app wrote, raw. */
  logs: string[]
  headers: Record<string, string>
  /** Closes the app but keeps the database and the fake (to restart on the same data). */
  restart: (env?: Record<string, string>) => Promise<void>
  /** A second instance of the service on the same database and fake (its dispatcher started); close it yourself. */
  startPeer: (env?: Record<string, string>) => Promise<App>
  close: () => Promise<void>
}

export interface TestAppOptions {
  env?: Record<string, string>
  clock?: TestClock
  /** Leave Infobip unset to run on the sandbox transport. */
  sandbox?: boolean
  /** 'manual': the dispatcher is not started; the test drives `app.dispatcher.tick()` itself. */
  workers?: 'auto' | 'manual'
  faults?: FaultInjector
}

export async function startTestApp (options: TestAppOptions = {}): Promise<TestContext> {
  const fake = await startFakeInfobip()
  const database = await createTestDatabase()
  const clock = options.clock ?? new TestClock()
  const logs: string[] = []
  const logStream = new Writable({
    write (chunk: Buffer, _encoding, callback) {
      logs.push(chunk.toString('utf8'))
      callback()
    }
  })
  const configFor = (env: Record<string, string> = {}): Config => loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    DATABASE_URL: database.url,
    API_KEYS: API_KEY,
    WEBHOOK_SECRET,
    RETRY_MIN_DELAY_MS: '10',
    RETRY_MAX_DELAY_MS: '100',
    INFOBIP_TIMEOUT_MS: '2000',
    SEND_RATE_PER_SECOND: '100000',
    // Route tests script Infobip failures in quick succession; the circuit breaker has tests of its own
    // (a test that wants it sets CIRCUIT_VOLUME_THRESHOLD or CIRCUIT_CONSECUTIVE_FAILURES).
    CIRCUIT_VOLUME_THRESHOLD: '10000',
    CIRCUIT_CONSECUTIVE_FAILURES: '10000',
    ...(options.sandbox === true ? {} : { INFOBIP_BASE_URL: fake.url, INFOBIP_API_KEY: fake.apiKey }),
    ...options.env,
    ...env
  })

  const context: TestContext = {
    app: undefined as unknown as App,
    config: configFor(),
    fake,
    clock,
    database,
    logs,
    headers: { 'x-api-key': API_KEY },
    restart: async (env) => {
      await context.app.close()
      context.config = configFor(env)
      context.app = await launch(context.config)
    },
    startPeer: async (env) => await launch(configFor(env)),
    close: async () => {
      await context.app.close()
      await fake.close()
      await database.drop()
    }
  }
  async function launch (config: Config): Promise<App> {
    const app = await buildApp(config, { clock, logStream, ...(options.faults !== undefined ? { faults: options.faults } : {}) })
    await app.ready()
    if (options.workers !== 'manual') await app.workers.start()
    return app
  }
  context.app = await launch(context.config)
  return context
}

/** A consenting contact, so marketing to the number passes the consent rule. */
export async function addConsentingContact (ctx: TestContext, phoneNumber: string, extra: Record<string, unknown> = {}): Promise<{ id: string }> {
  const response = await ctx.app.inject({
    method: 'POST',
    url: '/contacts',
    headers: ctx.headers,
    payload: {
      phoneNumber,
      consent: { source: 'web_form', text: 'Yes, send me offers by SMS. Up to 4 msgs/week. Reply STOP to cancel.', ip: '203.0.113.7', userAgent: 'Mozilla/5.0' },
      ...extra
    }
  })
  if (response.statusCode !== 201) throw new Error(`could not create contact: ${response.statusCode} ${response.body}`)
  return response.json()
}
