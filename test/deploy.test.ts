import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { serviceNodeFlags } from '../bench/service-command.js'

describe('how the service is started', () => {
  it('the Docker image runs node with the same flags as npm start (benchmarks and the harness use them too)', () => {
    const flags = serviceNodeFlags()
    expect(flags).toContain('--heap-growing-percent=50')
    const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(new URL('../Dockerfile', import.meta.url), 'utf8'))?.[1]
    expect(JSON.parse(cmd!)).toEqual(['node', ...flags, 'dist/server.js'])
  })

  it('node accepts the flags', async () => {
    const { execFileSync } = await import('node:child_process')
    expect(execFileSync(process.execPath, [...serviceNodeFlags(), '-e', 'process.stdout.write("ok")'], { encoding: 'utf8' })).toBe('ok')
  })
})
