import { readFileSync } from 'node:fs'

/**
 * Node's flags for the service, as `npm start` runs it (package.json `start`: `node <flags> dist/server.js`; the
 * Dockerfile's CMD carries the same, checked by test/deploy.test.ts). Benchmarks and the reliability harness start
 * the service with exactly these, so they measure what is deployed.
 * @throws Error when the start script is not of that form
 */
export function serviceNodeFlags (): string[] {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } }
  const parts = pkg.scripts.start.trim().split(/\s+/)
  if (parts[0] !== 'node' || parts.at(-1) !== 'dist/server.js') throw new Error(`package.json start is not "node <flags> dist/server.js": ${pkg.scripts.start}`)
  return parts.slice(1, -1)
}
