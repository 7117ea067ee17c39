// The fake Infobip in its own process for `npm run prove`, with its control API; prints only its address.
import { startFakeInfobip } from '../test/support/fake-infobip.js'

const apiKey = process.env.FAKE_API_KEY
if (apiKey === undefined || apiKey === '') throw new Error('FAKE_API_KEY is required')
const fake = await startFakeInfobip({ apiKey, control: true })
process.stdout.write(`${JSON.stringify({ url: fake.url })}\n`)
process.on('SIGTERM', () => { fake.close().finally(() => process.exit(0)) })
