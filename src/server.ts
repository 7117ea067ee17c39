import 'dotenv/config'
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import type { App } from './app-type.js'
import { ConfigError, loadConfig, type Config } from './config.js'
import { DatabaseStartError } from './db/database.js'

let config: Config
try {
  config = loadConfig()
} catch (error) {
  // One clear line naming the variable, and no stack: this is an operator's mistake, not a crash.
  process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`)
  process.exit(1)
}

let app: App
try {
  app = await buildApp(config)
} catch (error) {
  // An unwritable data directory or an unreachable database: one line, as for the configuration.
  if (!(error instanceof DatabaseStartError)) throw error
  process.stderr.write(`${error.message}\n`)
  process.exit(1)
}

closeWithGrace({ delay: config.shutdownGraceMs }, async ({ signal, err }) => {
  if (err !== undefined) app.log.error({ err }, 'Shutting down after an unexpected error')
  else app.log.info({ signal }, 'Shutting down: finishing in-flight sends')
  await app.close()
})

try {
  await app.listen({ host: config.host, port: config.port })
} catch (error) {
  app.log.error({ err: error }, 'Could not start listening')
  process.exit(1)
}
// The dispatcher starts once the service answers; closing the app (SIGTERM) stops it after in-flight batches.
await app.workers.start()
