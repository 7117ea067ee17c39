import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

// Runs in its own thread with its own connection: a checkpoint's fsync then never stalls requests.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const db = new Database(workerData.path)
db.pragma('busy_timeout = 5000')
const checkpoint = (mode) => { try { db.pragma('wal_checkpoint(' + mode + ')') } catch {} }
const timer = setInterval(() => checkpoint('PASSIVE'), workerData.intervalMs)
parentPort.on('message', () => {
  clearInterval(timer)
  checkpoint('TRUNCATE')
  db.close()
  parentPort.close()
})
`

/**
 * Checkpoints a WAL-mode SQLite file from a worker thread. SQLite's automatic checkpoint runs inside
 * whichever commit crosses its threshold and fsyncs there, several times a second under load; commits
 * are just as durable without it (they are in the WAL), so the service turns it off and checkpoints here.
 */
export function startCheckpointer (path: string, intervalMs: number): { stop: () => Promise<void> } {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3')
  const worker = new Worker(WORKER, { eval: true, workerData: { path, driver, intervalMs } })
  worker.unref()
  return {
    stop: async () => {
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
      // Hold the process open until the last checkpoint is written.
      worker.ref()
      worker.postMessage('stop')
      await exited
    }
  }
}
