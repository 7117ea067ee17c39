/**
 * Child processes for the benchmarks: each server under test, the fake Infobip and the guide's route run in a
 * process of their own, so none shares the event loop of another or of the load generator.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import type { Writable } from 'node:stream'

const children: ChildProcess[] = []
process.on('exit', () => { for (const child of children) child.kill('SIGKILL') })

/** Kills the child when this process exits, however it exits. */
export function adopt (child: ChildProcess): ChildProcess {
  children.push(child)
  return child
}

/**
 * Starts a helper process that prints one JSON line with its address once it listens (30 s to start). With
 * `output`, the rest of its stdout and all of its stderr go there (a log to keep); otherwise stderr is inherited
 * and the rest of stdout dropped.
 */
export function start (args: string[], env: Record<string, string>, output?: Writable): Promise<{ child: ChildProcess, info: Record<string, string> }> {
  const child = adopt(spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', output === undefined ? 'inherit' : 'pipe'] }))
  if (output !== undefined) child.stderr!.pipe(output, { end: false })
  return new Promise((resolve, reject) => {
    let buffer = ''
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start`)), 30_000)
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)))
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString()
      const newline = buffer.indexOf('\n')
      if (newline === -1) return
      clearTimeout(timer)
      child.stdout!.removeAllListeners('data')
      if (output !== undefined) {
        output.write(buffer.slice(newline + 1))
        child.stdout!.pipe(output, { end: false })
      } else {
        child.stdout!.resume()
      }
      resolve({ child, info: JSON.parse(buffer.slice(0, newline)) as Record<string, string> })
    })
  })
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort (): Promise<number> {
  return await new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0))
    })
  })
}

/** Polls `${url}/health` every 100 ms until it answers 200 (20 s at most). */
export async function waitForHealth (url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/health`)).ok) return
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`${url} never became healthy`)
}
