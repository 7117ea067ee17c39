import { defineConfig } from 'vitest/config'

// One suite, run per database: always on SQLite; also on PostgreSQL when TEST_DATABASE_URL is set.
// Pure domain tests touch no database and run once.
const postgres = process.env.TEST_DATABASE_URL !== undefined && process.env.TEST_DATABASE_URL !== ''

export default defineConfig({
  test: {
    // Integration tests start real HTTP servers; keep parallelism modest on small machines.
    maxWorkers: 2,
    testTimeout: 20_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: { name: 'sqlite', include: ['test/**/*.test.ts'], env: { TEST_DIALECT: 'sqlite' } }
      },
      ...(postgres
        ? [{
            extends: true as const,
            test: { name: 'postgres', include: ['test/**/*.test.ts'], exclude: ['test/domain/**'], env: { TEST_DIALECT: 'postgres' } }
          }]
        : [])
    ]
  }
})
