/**
 * The fake Infobip for `npm run prove`: its own process (prove/fake-infobip-server.ts), driven over its control
 * API (`/__control/…`, see test/support/fake-infobip.ts) from the harness.
 */
import type { ChildProcess } from 'node:child_process'
import type { Writable } from 'node:stream'
import { start } from '../bench/processes.js'
import type { DeliveryReportStatus, FakeBehaviour, TruthEntry } from '../test/support/fake-infobip.js'

export type { TruthEntry }

export interface FakeRequests {
  sends: Array<{ receivedAt: number, destinations: number }>
  lookups: Array<{ receivedAt: number }>
}

export interface FakeControl {
  /** 'http://127.0.0.1:PORT' */
  url: string
  child: ChildProcess
  /** Every messageId it accepted, or only those whose text contains `text`. */
  truth: (text?: string) => Promise<TruthEntry[]>
  requests: () => Promise<FakeRequests>
  /** `behaviour` for `forMs` (then `thenRefuseMs` of refused connections, then ok); without `forMs`, from now on. */
  mode: (behaviour: FakeBehaviour, forMs?: number, thenRefuseMs?: number) => Promise<void>
  logLag: (lag: { ms?: number, lookups?: number }) => Promise<void>
  /** Posts these delivery reports to the service, in this order; the HTTP status of each POST. */
  reports: (reports: Array<{ messageId: string, status: DeliveryReportStatus }>, batchSize: number) => Promise<number[]>
  reset: () => Promise<void>
}

export async function startFake (apiKey: string, output: Writable): Promise<FakeControl> {
  const { child, info } = await start(['--import', 'tsx', 'prove/fake-infobip-server.ts'], { FAKE_API_KEY: apiKey }, output)
  const url = info.url!
  async function call<T> (method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${url}/__control/${path}`, {
      method,
      ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {})
    })
    const result = await response.json() as T & { error?: string }
    if (!response.ok) throw new Error(`fake Infobip control ${path}: ${response.status} ${result.error ?? ''}`)
    return result
  }
  return {
    url,
    child,
    truth: async (text) => (await call<{ messages: TruthEntry[] }>('GET', text === undefined ? 'truth' : `truth?text=${encodeURIComponent(text)}`)).messages,
    requests: async () => await call<FakeRequests>('GET', 'requests'),
    mode: async (behaviour, forMs, thenRefuseMs) => { await call('POST', 'mode', { behaviour, forMs, thenRefuseMs }) },
    logLag: async (lag) => { await call('POST', 'log-lag', lag) },
    reports: async (reports, batchSize) => (await call<{ statuses: number[] }>('POST', 'reports', { reports, batchSize })).statuses,
    reset: async () => { await call('POST', 'reset') }
  }
}

/** When the first of these messages arrived at or after `since` (epoch ms), or null. */
export function firstArrivalAfter (truth: TruthEntry[], since: number): number | null {
  let first: number | null = null
  for (const entry of truth) for (const at of entry.acceptedAt) if (at >= since && (first === null || at < first)) first = at
  return first
}
