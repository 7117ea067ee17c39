import type { CircuitState } from '../services/provider.js'

export interface HealthDeps {
  pingDatabase: () => Promise<void>
  circuitState: () => CircuitState
  isShuttingDown: () => boolean
}

export function createHealthController ({ pingDatabase, circuitState, isShuttingDown }: HealthDeps) {
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
      return {
        status: database === 'ok' && !shuttingDown ? 'ok' as const : 'unavailable' as const,
        checks: { database, provider: circuitState(), shuttingDown }
      }
    }
  }
}

export type HealthController = ReturnType<typeof createHealthController>
