/**
 * When the Infobip circuit breaker opens: a pure rule over counts of HTTP attempts (no I/O, no clock). The
 * breaker (src/services/infobip.ts, opossum) keeps the counts; this decides. Either of two rules opens it:
 *
 * - **A run of failures**: the last `consecutiveFailures` attempts all failed, however long ago the first of
 *   them was. This is what opens it at high traffic, where the rolling window still holds the successes from
 *   before an outage: only the requests in flight (SEND_CONCURRENCY) and their retries reach Infobip then. Its
 *   default, one more than SEND_CONCURRENCY's default (5 = 4 + 1), means that one moment's failure of every
 *   request in flight does not open it alone; a retry or a later request failing too does.
 * - **A failure rate**: within the rolling window (CIRCUIT_WINDOW_MS) at least `volumeThreshold` attempts were
 *   made and more than `errorThresholdPercentage` % of them failed. This is what opens it at low traffic, where a
 *   run takes long to build (1 send/s: about 1 s).
 *
 * A single failed or timed-out attempt among successes never opens it: a success ends a run, and one failure
 * is at most half of any window of two or more attempts. Only failures that say Infobip is unwell count
 * (5xx, 408, timeouts, network errors); an answer that is our own fault (4xx) or a 429 (handled by the
 * Retry-After hold) counts as a success: Infobip is up and answering.
 */

export interface CircuitRule {
  /** Failed attempts in a row that open it (CIRCUIT_CONSECUTIVE_FAILURES, ≥ 2). */
  consecutiveFailures: number
  /** Fewest attempts in the window before the rate counts (CIRCUIT_VOLUME_THRESHOLD). */
  volumeThreshold: number
  /** Failure share of the window, in percent, that must be exceeded (CIRCUIT_ERROR_THRESHOLD). */
  errorThresholdPercentage: number
}

export interface CircuitCounts {
  /** Failed attempts since the last success (any age). */
  failureRun: number
  /** Attempts and failures within the rolling window, the latest included. */
  windowAttempts: number
  windowFailures: number
}

export type CircuitTrip = 'consecutive-failures' | 'failure-rate'

/** The run of failures after one more attempt: a success ends it, a failure extends it. */
export function nextFailureRun (run: number, outcome: 'success' | 'failure'): number {
  return outcome === 'success' ? 0 : run + 1
}

/** Which rule opens the circuit on these counts, or null while it stays closed. */
export function circuitTrip (counts: CircuitCounts, rule: CircuitRule): CircuitTrip | null {
  if (counts.failureRun >= rule.consecutiveFailures) return 'consecutive-failures'
  if (counts.windowAttempts >= rule.volumeThreshold && counts.windowAttempts > 0 &&
    (counts.windowFailures / counts.windowAttempts) * 100 > rule.errorThresholdPercentage) return 'failure-rate'
  return null
}
