// A fake Infobip in its own process, so the server under test does not share its event loop.
import { startFakeInfobip } from '../test/support/fake-infobip.js'

const fake = await startFakeInfobip({ apiKey: process.env.FAKE_API_KEY ?? 'bench-infobip-key', record: false })
process.stdout.write(`${JSON.stringify({ url: fake.url, apiKey: fake.apiKey })}\n`)
process.on('SIGTERM', () => { fake.close().finally(() => process.exit(0)) })
