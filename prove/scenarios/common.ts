/** Steps several scenarios share: one instance on a fresh database with contacts, a campaign, its verdict. */
import { setTimeout as sleep } from 'node:timers/promises'
import { waitCompleted } from '../api.js'
import type { DatabaseServer, ScenarioDatabase } from '../databases.js'
import type { TruthEntry } from '../fake.js'
import { campaignMessage, contactsCsv, type Harness, type Instance, type ScenarioResult } from '../harness.js'
import { emptyTally } from '../verify.js'

export interface Stage {
  h: Harness
  db: ScenarioDatabase
  instance: Instance
  numbers: string[]
  tag: string
  /** Stops the instance, drops the database, resets the fake. */
  close: () => Promise<void>
}

/** What a scenario's stage is made of: its name (database, tag), contacts and settings. */
export interface StagePlan { name: string, size: number, settings: Record<string, string> }

/**
 * The stage for `plan` on `server`: the one prepared ahead while the scenario before waited out its fault
 * (Harness.idle), or a fresh one.
 */
export async function stage (h: Harness, server: DatabaseServer, name: string, size: number, settings: Record<string, string>): Promise<Stage> {
  const ahead = h.takePrepared(stageKey(server, name))
  if (ahead !== undefined) {
    const prepared = await ahead.catch(() => null) as Stage | null
    if (prepared !== null) return prepared
  }
  return await freshStage(h, server, name, size, settings)
}

export const stageKey = (server: DatabaseServer, name: string): string => `${server.label}:${name}`

/** A fresh database, one started instance with `settings`, and `size` subscribed contacts tagged for this scenario. */
export async function freshStage (h: Harness, server: DatabaseServer, name: string, size: number, settings: Record<string, string>): Promise<Stage> {
  const db = await server.create(name)
  const instance = await h.service(`${server.label}-${name}`, db.url, settings)
  const close = async (): Promise<void> => {
    await instance.process.stop()
    await db.drop()
    await h.fake.reset()
  }
  try {
    await instance.process.start()
    const numbers = h.numbers(size)
    const tag = `${name}-${server.label}`.toLowerCase()
    await instance.api.importContacts(contactsCsv(numbers, tag), size)
    return { h, db, instance, numbers, tag, close }
  } catch (error) {
    await close()
    throw error
  }
}

/** Creates and launches a campaign to the stage's contacts; its id and when the launch was asked for. */
export async function launchCampaign (s: Stage, marker: string): Promise<{ id: string, launchedAt: number }> {
  const id = await s.instance.api.createCampaign(`Prove ${marker}`, campaignMessage(marker), s.tag)
  const launchedAt = Date.now()
  const status = await s.instance.api.launch(id)
  if (status !== 202) throw new Error(`launch answered ${status}`)
  return { id, launchedAt }
}

/** Waits for the campaign to complete, then returns the fake's truth for it and the service's records. */
export async function finish (s: Stage, id: string, marker: string, timeoutMs: number) {
  await waitCompleted([s.instance.api], id, timeoutMs)
  // A campaign completes once no row is queued or sending: every answer is recorded by then.
  const truth: TruthEntry[] = await s.h.fake.truth(marker)
  return { truth, records: await s.db.records({ campaignId: id }) }
}

/** A result row with nothing measured yet. */
export function newResult (scenario: string, database: string, runs: number, settings: Record<string, string>): ScenarioResult {
  return { scenario, database, runs, tally: emptyTally(), leaked: null, recoverMs: [], checks: [], failures: [], missed: [], settings }
}

/** Records a failed correctness check when `ok` is false; returns `ok`. */
export function expectThat (result: ScenarioResult, ok: boolean, failure: string): boolean {
  if (!ok) result.failures.push(failure)
  return ok
}

/** Records a missed timing or rate target when `ok` is false (reported, not failing the run); returns `ok`. */
export function aimFor (result: ScenarioResult, ok: boolean, miss: string): boolean {
  if (!ok) result.missed.push(miss)
  return ok
}

/** Polls `probe` every `everyMs` until it returns something other than null or `untilMs` (epoch) passes. */
export async function poll<T> (probe: () => Promise<T | null>, everyMs: number, untilMs: number): Promise<T | null> {
  while (Date.now() < untilMs) {
    const value = await probe().catch(() => null)
    if (value !== null) return value
    await sleep(everyMs)
  }
  return null
}

/** The most arrivals within any `windowMs` (sliding over sorted epoch-ms times), and when that window began (epoch ms; 0 when none). */
export function busiestWindow (times: number[], windowMs: number): { count: number, startAt: number } {
  const sorted = [...times].sort((a, b) => a - b)
  let best = 0
  let bestAt = 0
  let start = 0
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= windowMs) start++
    if (end - start + 1 > best) {
      best = end - start + 1
      bestAt = sorted[start]!
    }
  }
  return { count: best, startAt: bestAt }
}
