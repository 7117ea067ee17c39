/**
 * The service under test as deployed: `node dist/server.js` with NODE_ENV=production, in a child process whose
 * stdout and stderr go to a log file (scanned by the log scenario). Restarts keep the port, so the notifyUrl
 * Infobip holds for earlier messages still reaches it.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import type { WriteStream } from 'node:fs'
import { resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { adopt } from '../bench/processes.js'
import { serviceNodeFlags } from '../bench/service-command.js'

/** How long a start may take before it counts as failed: generous, for a loaded machine (ms). */
const START_LIMIT_MS = 90_000

/** Polls `${url}/health` every 50 ms until it answers 200; throws after `limitMs` or when the process exited. */
async function waitForHealth (url: string, limitMs: number, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + limitMs
  while (Date.now() < deadline && !exited()) {
    try {
      if ((await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })).ok) return
    } catch {}
    await sleep(50)
  }
  throw new Error(`${url} never became healthy${exited() ? ' (the process exited)' : ` within ${limitMs / 1000} s`}`)
}

export interface ServiceOptions {
  name: string
  port: number
  env: Record<string, string>
  log: WriteStream
  /** Working directory: a scratch directory, so no `.env` of the checkout is read. */
  cwd: string
}

/** Variables of the harness's own environment that must not reach the service (a proxy would take loopback calls). */
const DROPPED = ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'ALL_PROXY', 'all_proxy', 'DATABASE_URL', 'TEST_DATABASE_URL', 'PROVE_DATABASE_URL']

export class ServiceProcess {
  readonly name: string
  readonly url: string
  /** Exits the harness did not ask for (a crash), with their exit code or signal. */
  readonly crashes: string[] = []
  private child: ChildProcess | null = null
  private expectingExit = false

  constructor (private readonly options: ServiceOptions) {
    this.name = options.name
    this.url = `http://127.0.0.1:${options.port}`
  }

  get alive (): boolean { return this.child !== null }
  get pid (): number | undefined { return this.child?.pid }

  /** Starts it and waits until /health answers. */
  async start (): Promise<void> {
    if (this.child !== null) throw new Error(`${this.name} is already running`)
    const env: Record<string, string> = {}
    for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !DROPPED.includes(key)) env[key] = value
    const child = adopt(spawn(process.execPath, [...serviceNodeFlags(), resolve('dist/server.js')], {
      cwd: this.options.cwd,
      env: { ...env, ...this.options.env, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(this.options.port) },
      stdio: ['ignore', 'pipe', 'pipe']
    }))
    child.stdout!.pipe(this.options.log, { end: false })
    child.stderr!.pipe(this.options.log, { end: false })
    this.expectingExit = false
    child.once('exit', (code, signal) => {
      if (!this.expectingExit) this.crashes.push(`${this.name} exited (${signal ?? code})`)
      if (this.child === child) this.child = null
    })
    this.child = child
    await waitForHealth(this.url, START_LIMIT_MS, () => this.child !== child)
  }

  /** kill -9: no shutdown of any kind. */
  async kill (): Promise<void> {
    await this.end('SIGKILL')
  }

  /** SIGTERM: the graceful shutdown (in-flight batches recorded); SIGKILL after 30 s. */
  async stop (): Promise<void> {
    await this.end('SIGTERM')
  }

  private async end (signal: NodeJS.Signals): Promise<void> {
    const child = this.child
    if (child === null) return
    this.expectingExit = true
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill(signal)
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    await exited
    clearTimeout(timer)
    this.child = null
  }
}
