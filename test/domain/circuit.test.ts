import { describe, expect, it } from 'vitest'
import { circuitTrip, nextFailureRun, type CircuitRule } from '../../src/domain/circuit.js'

/** The defaults (config.ts): a run of 5, or more than 50 % of at least 3 attempts in the window. */
const DEFAULTS: CircuitRule = { consecutiveFailures: 5, volumeThreshold: 3, errorThresholdPercentage: 50 }

/**
 * Replays attempts through the rule: `outcomes` is a string of S (success) and F (failure), `window` how many of
 * the latest attempts the rolling window holds. Returns the 1-based attempt at which it opens and why, or null.
 */
function replay (outcomes: string, window: number, rule: CircuitRule = DEFAULTS): { at: number, trip: string } | null {
  let run = 0
  const seen: string[] = []
  for (const [i, outcome] of [...outcomes].entries()) {
    seen.push(outcome)
    run = nextFailureRun(run, outcome === 'S' ? 'success' : 'failure')
    if (outcome === 'S') continue
    const inWindow = seen.slice(-window)
    const trip = circuitTrip({ failureRun: run, windowAttempts: inWindow.length, windowFailures: inWindow.filter((o) => o === 'F').length }, rule)
    if (trip !== null) return { at: i + 1, trip }
  }
  return null
}

describe('circuit rule (src/domain/circuit.ts)', () => {
  it.each([
    // outcomes, attempts in the window, expected opening
    // A single failure, or a single failure now and then, among successes: never.
    ['SSSSSSSSSF', 100, null],
    ['SSFSSSFSSSSF', 100, null],
    ['SFSFSFSFSFSFSF', 100, null],
    // Every request in flight failing at one moment (SEND_CONCURRENCY 4) among many successes: not alone …
    [`${'S'.repeat(100)}FFFFSSSS`, 100, null],
    // … but a fifth failure in a row (a retry, a later request) opens it, however many successes the window holds.
    [`${'S'.repeat(100)}FFFFF`, 100, { at: 105, trip: 'consecutive-failures' }],
    [`${'S'.repeat(400)}FFFFFFFF`, 400, { at: 405, trip: 'consecutive-failures' }],
    // A success ends the run.
    [`${'S'.repeat(50)}FFFFSFFFFS`, 100, null],
    // Low traffic: the window holds few attempts, so the rate opens it first (1 send/s, 2 s window ≈ 3 attempts).
    ['SSFF', 3, { at: 4, trip: 'failure-rate' }],
    ['SFF', 3, { at: 3, trip: 'failure-rate' }],
    // Below the volume threshold the rate does not count; the run still does.
    ['FF', 3, null],
    ['FFFFF', 2, { at: 5, trip: 'consecutive-failures' }],
    // Exactly half failed is not more than half.
    ['SSFF', 4, null],
    ['SSFFF', 4, { at: 5, trip: 'failure-rate' }],
    ['SFSF', 4, null]
  ])('%s (window of %i attempts) → %o', (outcomes, window, expected) => {
    expect(replay(outcomes, window)).toEqual(expected)
  })

  it.each([
    // consecutiveFailures, outcomes → first opening
    [2, 'SSSSFF', 6],
    [3, 'SSSSFFSFFF', 10],
    [10, `${'F'.repeat(9)}S${'F'.repeat(10)}`, 20]
  ])('a run of %i failures opens it (%s at attempt %i)', (consecutiveFailures, outcomes, at) => {
    expect(replay(outcomes, 1000, { ...DEFAULTS, consecutiveFailures, volumeThreshold: 10_000 })).toEqual({ at, trip: 'consecutive-failures' })
  })

  it('nextFailureRun: a failure extends the run, a success ends it', () => {
    expect(nextFailureRun(0, 'failure')).toBe(1)
    expect(nextFailureRun(4, 'failure')).toBe(5)
    expect(nextFailureRun(4, 'success')).toBe(0)
  })
})
