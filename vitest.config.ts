import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start real HTTP servers; keep parallelism modest on small machines.
    maxWorkers: 2,
    testTimeout: 20_000,
    hookTimeout: 20_000
  }
})
