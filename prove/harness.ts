/**
 * What every scenario of `npm run prove` shares: the run's options (quick, seed), the fake Infobip, the secrets,
 * the log files, phone numbers, and starting the service on a scenario's database.
 */
import { createWriteStream, type WriteStream } from 'node:fs'
import { join } from 'node:path'
import { freePort } from '../bench/processes.js'
import { ServiceApi } from './api.js'
import type { FakeControl } from './fake.js'
import type { Random } from './random.js'
import { ServiceProcess } from './service.js'
import type { Tally } from './verify.js'

export interface Secrets {
  /** The service's API key (API_KEYS). */
  apiKey: string
  /** The Infobip API key the fake accepts (INFOBIP_API_KEY). */
  infobipKey: string
  webhookSecret: string
}

/** One row of docs/reliability.md. */
export interface ScenarioResult {
  scenario: string
  database: string
  runs: number
  tally: Tally
  /** Secrets and full numbers found in the logs (the log scenario only). */
  leaked: number | null
  /** Per run: ms from the end of the fault to the first message Infobip accepted after it. */
  recoverMs: number[]
  /** What was measured besides the tally, in words (no phone numbers). */
  checks: string[]
  /**
   * Each correctness check that failed (a message after its STOP, a forged report applied, a crash…); a row
   * passes when this is empty and lost, duplicated, wrong final status and leaked are 0.
   */
  failures: string[]
  /** Each target of timing or rate that was missed (circuit open within 2 s, the rate after a storm): reported, not failing. */
  missed: string[]
  /** Settings that differ from the defaults, as environment variables. */
  settings: Record<string, string>
  /** Why a row was not run, or a caveat. */
  note?: string
}

export interface Instance { process: ServiceProcess, api: ServiceApi }

/** A stage (database, started instance, contacts) made ahead of its scenario; `close` ends it unused. */
export interface Prepared { close: () => Promise<void> }

export class Harness {
  /** Every phone number any scenario used (E.164): the log scan looks for each. */
  readonly numbersUsed = new Set<string>()
  /** Every log file written by a child process. */
  readonly logFiles: string[] = []
  private readonly instances: ServiceProcess[] = []
  /**
   * The next scenario's stage, set by the run before each scenario: prepared while the running one waits out a
   * fault (`idle`), so that its database, service start and contact import overlap that wait.
   */
  upcoming: { key: string, prepare: () => Promise<Prepared> } | null = null
  private readonly prepared = new Map<string, Promise<Prepared>>()

  constructor (
    readonly quick: boolean,
    readonly seed: number,
    readonly rng: Random,
    readonly fake: FakeControl,
    readonly secrets: Secrets,
    readonly runDir: string,
    readonly logDir: string
  ) {}

  /** A log file in the run's log directory (kept for the scan). */
  log (name: string): WriteStream {
    const path = join(this.logDir, `${name}.log`)
    this.logFiles.push(path)
    return createWriteStream(path, { flags: 'a' })
  }

  /**
   * A service instance (not started) on `databaseUrl`, production mode, against the fake Infobip, with
   * `settings` on top of the harness's base settings.
   */
  async service (name: string, databaseUrl: string, settings: Record<string, string>): Promise<Instance> {
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    const process = new ServiceProcess({
      name,
      port,
      cwd: this.runDir,
      log: this.log(name),
      env: {
        INFOBIP_BASE_URL: this.fake.url,
        INFOBIP_API_KEY: this.secrets.infobipKey,
        API_KEYS: this.secrets.apiKey,
        WEBHOOK_SECRET: this.secrets.webhookSecret,
        PUBLIC_BASE_URL: url,
        DATABASE_URL: databaseUrl,
        LOG_LEVEL: 'info',
        RATE_LIMIT_MAX: '1000000000',
        BRAND_NAME: 'Prove Shop',
        SUPPORT_CONTACT: 'help@example.com',
        ...settings
      }
    })
    this.instances.push(process)
    return { process, api: new ServiceApi(url, this.secrets.apiKey, this.secrets.webhookSecret) }
  }

  /**
   * The running scenario has nothing to measure for a while (the circuit is open and Infobip stays down, Infobip is
   * slow, a 429 storm holds dispatch): the next scenario's stage is prepared meanwhile.
   */
  idle (): void {
    const next = this.upcoming
    if (next === null || this.prepared.has(next.key)) return
    const work = next.prepare()
    work.catch(() => undefined)
    this.prepared.set(next.key, work)
  }

  /** The stage prepared for `key`, once (its scenario takes it over). */
  takePrepared (key: string): Promise<Prepared> | undefined {
    const work = this.prepared.get(key)
    this.prepared.delete(key)
    return work
  }

  /** Ends every stage prepared and never taken (a scenario left out or stopped early). */
  async closePrepared (): Promise<void> {
    const left = [...this.prepared.values()]
    this.prepared.clear()
    for (const work of left) await work.then(async (stage) => await stage.close(), () => undefined)
  }

  /** Crashes of every instance so far (exits the harness did not ask for). */
  crashes (): string[] {
    return this.instances.flatMap((i) => i.crashes)
  }

  /**
   * `count` distinct valid US numbers (+1 415 3xx xxxx, no state frequency cap), the same for the same `offset`;
   * remembered for the log scan.
   */
  numbers (count: number, offset = 0): string[] {
    const list: string[] = []
    for (let i = offset; i < offset + count; i++) list.push(`+1415${String(3_000_000 + i).padStart(7, '0')}`)
    for (const number of list) this.numbersUsed.add(number)
    return list
  }
}

/** Base settings (harness-wide, every scenario) as shown in docs/reliability.md. */
export const BASE_SETTINGS = 'NODE_ENV=production, LOG_LEVEL=info, RATE_LIMIT_MAX raised, PUBLIC_BASE_URL set (delivery reports)'

/**
 * A fixed-offset zone where it is early afternoon now, so quiet hours (08:00–21:00 by default) never defer a
 * message during the run.
 */
export function afternoonZone (now = new Date()): string {
  const offset = 13 - now.getUTCHours()
  const hours = ((offset + 11) % 24 + 24) % 24 - 11
  return hours === 0 ? 'Etc/GMT' : `Etc/GMT${hours > 0 ? '-' : '+'}${Math.abs(hours)}`
}

/** A CSV for POST /contacts/import: each number subscribed (consent columns), tagged `tag`, in an afternoon zone. */
export function contactsCsv (numbers: string[], tag: string): string {
  const zone = afternoonZone()
  const lines = ['phoneNumber,firstName,tags,timezone,consentSource,consentText']
  numbers.forEach((number, i) => lines.push(`${number},Ann${i},${tag},${zone},web_form,"Yes, text me offers. Reply STOP to cancel."`))
  return lines.join('\n') + '\n'
}

/** A campaign text carrying `marker`, so the fake's truth for one campaign is the messages containing it. */
export function campaignMessage (marker: string): string {
  return `${marker} Hi {{ firstName | default: "there" }}, our spring sale starts today.`
}

/** ms as seconds with one decimal: "1.5 s". */
export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`

/** A count with thousands separators: "20,000". */
export const count = (n: number): string => n.toLocaleString('en-US')

/** The median of `values` (ms), or null. */
export function median (values: number[]): number | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}
