// The benchmark's client, in its own process as a real one would be: streams the generated CSV to
// POST /contacts/import and prints the response as one JSON line.
import { Readable } from 'node:stream'
import { contactsCsvLines } from './contacts-csv.js'

const [url, apiKey, rows] = process.argv.slice(2)
const response = await fetch(url!, {
  method: 'POST',
  headers: { 'content-type': 'text/csv', 'x-api-key': apiKey! },
  body: Readable.toWeb(Readable.from(contactsCsvLines(Number(rows)))) as ReadableStream,
  duplex: 'half'
} as RequestInit)
process.stdout.write(`${JSON.stringify({ status: response.status, body: await response.json() as unknown })}\n`)
