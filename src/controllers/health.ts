import type { CircuitState } from '../services/provider.js'

export interface HealthDeps {
  pingDatabase: () => Promise<void>
  circuitState: () => CircuitState
  isShuttingDown: () => boolean
  /** The outbox dispatcher: running, stopped, or stalled (no step for STALLED_AFTER_MS). */
  dispatcher: { isRunning: () => boolean, idleForMs: () => number }
}

/** A dispatcher that has not taken a step for this long is stuck (its steps are at most a second apart). */
const STALLED_AFTER_MS = 30_000

export function createHealthController ({ pingDatabase, circuitState, isShuttingDown, dispatcher }: HealthDeps) {
  return {
    liveness: () => ({ status: 'ok' as const, timestamp: new Date().toISOString() }),
    async readiness () {
      let database: 'ok' | 'error' = 'ok'
      try {
        await pingDatabase()
      } catch {
        database = 'error'
      }
      const shuttingDown = isShuttingDown()
      const dispatch = !dispatcher.isRunning() ? 'stopped' as const : dispatcher.idleForMs() > STALLED_AFTER_MS ? 'stalled' as const : 'running' as const
      return {
        status: database === 'ok' && !shuttingDown && dispatch === 'running' ? 'ok' as const : 'unavailable' as const,
        checks: { database, provider: circuitState(), dispatcher: dispatch, shuttingDown }
      }
    }
  }
}

export type HealthController = ReturnType<typeof createHealthController>
