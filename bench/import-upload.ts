// The benchmark's client, in its own process as a real one would be. It prepares the upload, prints
// "ready", and sends it to POST /contacts/import once a line arrives on stdin (so starting Node is not
// timed); then prints the response as one JSON line. Two ways to send the same bytes:
// - file: as `curl --data-binary @contacts.csv` or a browser sends a file: a Content-Length, 64 KiB pieces;
// - lines: a stream written line by line with chunked encoding (~100,000 pieces of ~130 bytes).
import { request } from 'node:http'
import { Readable } from 'node:stream'
import { once } from 'node:events'
import { contactsCsvFilePieces, contactsCsvLines } from './contacts-csv.js'

const [url, apiKey, rows, mode] = process.argv.slice(2)
const headers = { 'content-type': 'text/csv', 'x-api-key': apiKey! }

async function sendFile (pieces: Buffer[]): Promise<{ status: number, body: unknown }> {
  const length = pieces.reduce((sum, piece) => sum + piece.length, 0)
  const req = request(url!, { method: 'POST', headers: { ...headers, 'content-length': String(length) } })
  const answered = once(req, 'response') as Promise<[import('node:http').IncomingMessage]>
  for (const piece of pieces) {
    if (!req.write(piece)) await once(req, 'drain')
  }
  req.end()
  const [response] = await answered
  let text = ''
  for await (const chunk of response) text += String(chunk)
  return { status: response.statusCode ?? 0, body: JSON.parse(text) as unknown }
}

async function sendLines (): Promise<{ status: number, body: unknown }> {
  const response = await fetch(url!, {
    method: 'POST',
    headers,
    body: Readable.toWeb(Readable.from(contactsCsvLines(Number(rows)))) as ReadableStream,
    duplex: 'half'
  } as RequestInit)
  return { status: response.status, body: await response.json() as unknown }
}

const pieces = mode === 'lines' ? null : contactsCsvFilePieces(Number(rows))
process.stdout.write('ready\n')
await once(process.stdin, 'data')
const result = pieces === null ? await sendLines() : await sendFile(pieces)
process.stdout.write(`${JSON.stringify(result)}\n`)
process.exit(0)
