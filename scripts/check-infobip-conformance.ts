/**
 * Checks the fake Infobip (test/support/fake-infobip.ts) and what we send to it against Infobip's own
 * OpenAPI document.
 *
 *   npx tsx scripts/check-infobip-conformance.ts [path-to-openapi-subset.json]
 *
 * Path: the argument, else $INFOBIP_OPENAPI, else ../shared/reference/infobip-sms-openapi-subset.json
 * relative to the project root.
 *
 * Every body is validated twice:
 * - against the schema as published ("open": undeclared properties are allowed, as the document says);
 * - against a closed copy where every object schema gets `additionalProperties: false`, to catch misspelt
 *   or invented property names. Undeclared properties we know about (the SDK's `type: "text"`) are
 *   printed as notes, anything else fails.
 * Prints 'ok  <name>', 'note <name>: …' or 'FAIL <name>: …' per check; exits 1 on any failure.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import Ajv2020Module from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import type { ErrorObject, ValidateFunction } from 'ajv'
import { Infobip, AuthType } from '@infobip-api/sdk'
import {
  deliveryReportBody,
  inboundBody,
  REPORT_STATUSES,
  startFakeInfobip,
  type DeliveryReportStatus,
  type FakeInfobip
} from '../test/support/fake-infobip.js'

// axios (inside the SDK) honours HTTP(S)_PROXY: the loopback fake must be reached directly.
for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'ALL_PROXY', 'all_proxy']) delete process.env[name]

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const specPath = process.argv[2] !== undefined
  ? resolve(process.argv[2])
  : process.env.INFOBIP_OPENAPI !== undefined && process.env.INFOBIP_OPENAPI !== ''
    ? resolve(process.env.INFOBIP_OPENAPI)
    : resolve(root, '../shared/reference/infobip-sms-openapi-subset.json')

// ---------------------------------------------------------------------------------------------
// Reporting

let failures = 0
function ok (name: string): void { console.log(`ok  ${name}`) }
function fail (name: string, detail: string): void { failures++; console.log(`FAIL ${name}: ${detail}`) }
function note (name: string, detail: string): void { console.log(`note ${name}: ${detail}`) }

// ---------------------------------------------------------------------------------------------
// The OpenAPI document and ajv

type Json = Record<string, unknown>
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)

if (!existsSync(specPath)) {
  console.log(`FAIL load ${specPath}: file not found (pass a path or set INFOBIP_OPENAPI)`)
  process.exit(1)
}
const doc = JSON.parse(readFileSync(specPath, 'utf8')) as Json

/** A copy in which every object schema that lists its properties and says nothing else about extra ones is closed. */
function closeSchemas (value: unknown, insideComposition = false): unknown {
  if (Array.isArray(value)) return value.map((item) => closeSchemas(item, insideComposition))
  if (!isObject(value)) return value
  const out: Json = {}
  for (const [key, child] of Object.entries(value)) {
    // Members of allOf must stay open, or they would reject each other's properties.
    out[key] = closeSchemas(child, key === 'allOf')
  }
  if (!insideComposition && isObject(value.properties) && !('additionalProperties' in value) && !('allOf' in value) &&
      !('unevaluatedProperties' in value)) {
    out.additionalProperties = false
  }
  return out
}

const OPEN = 'infobip-openapi'
const CLOSED = 'infobip-openapi-closed'
const Ajv2020 = Ajv2020Module.default
const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false })
addFormatsModule.default(ajv)
ajv.addSchema(doc, OPEN)
ajv.addSchema(closeSchemas(doc) as Json, CLOSED)

const escapeSegment = (segment: string): string => segment.replace(/~/g, '~0').replace(/\//g, '~1')
const pointer = (...segments: string[]): string => '#/' + segments.map(escapeSegment).join('/')

function at (ref: string): unknown {
  let node: unknown = doc
  for (const raw of ref.replace(/^#\//, '').split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    node = isObject(node) ? node[segment] : undefined
  }
  return node
}

/** Follows an OpenAPI `$ref` (response or request-body objects) to the pointer of the object it names. */
function follow (ref: string): string {
  const node = at(ref)
  return isObject(node) && typeof node.$ref === 'string' ? follow(node.$ref) : ref
}

function jsonSchemaAt (objectRef: string): string | null {
  const target = follow(objectRef)
  const schemaRef = `${target}/content/${escapeSegment('application/json')}/schema`
  return at(schemaRef) !== undefined ? schemaRef : null
}

const requestSchema = (path: string, method: string): string | null => jsonSchemaAt(pointer('paths', path, method, 'requestBody'))
const webhookSchema = (name: string): string | null => jsonSchemaAt(pointer('webhooks', name, 'post', 'requestBody'))

/** The documented response schema, or a documented fallback (with a note) when the operation does not list that status. */
function responseSchema (path: string, method: string, status: number): { ref: string, fallback?: string } | null {
  const documented = jsonSchemaAt(pointer('paths', path, method, 'responses', String(status)))
  if (documented !== null) return { ref: documented }
  const candidates = [
    pointer('components', 'responses', `ApiException${status}`),
    ...(status >= 500 ? [pointer('paths', path, method, 'responses', '500')] : []),
    pointer('paths', path, method, 'responses', 'default'),
    pointer('paths', path, method, 'responses', '400')
  ]
  for (const candidate of candidates) {
    if (at(candidate) === undefined) continue
    const ref = jsonSchemaAt(candidate)
    if (ref !== null) return { ref, fallback: candidate }
  }
  return null
}

const compiled = new Map<string, ValidateFunction>()
function validator (id: string, ref: string): ValidateFunction {
  const key = `${id}${ref}`
  let validate = compiled.get(key)
  if (validate === undefined) {
    validate = ajv.compile({ $ref: key })
    compiled.set(key, validate)
  }
  return validate
}

function describeErrors (errors: ErrorObject[] | null | undefined): string {
  return (errors ?? []).slice(0, 8).map((e) => {
    const extra = typeof e.params.additionalProperty === 'string' ? ` '${e.params.additionalProperty}'` : ''
    return `${e.instancePath === '' ? '/' : e.instancePath} ${e.message ?? e.keyword}${extra}`
  }).join('; ')
}

/** Undeclared properties that are expected, by where they appear. */
const KNOWN_EXTRAS: Array<{ pattern: RegExp, why: string }> = [
  { pattern: /^\/type$/, why: 'added by @infobip-api/sdk send() ("type": "text"), not an Infobip field; the published schema does not forbid extra properties, so Infobip accepts it' }
]

function check (name: string, ref: string | null, body: unknown): void {
  if (ref === null) {
    fail(name, 'no schema found in the OpenAPI document')
    return
  }
  const open = validator(OPEN, ref)
  if (!open(body)) {
    fail(name, describeErrors(open.errors))
    return
  }
  const closed = validator(CLOSED, ref)
  if (closed(body)) {
    ok(name)
    return
  }
  const unexpected: string[] = []
  const known = new Map<string, string[]>()
  for (const error of closed.errors ?? []) {
    if (error.keyword !== 'additionalProperties' || typeof error.params.additionalProperty !== 'string') {
      // With a property rejected, sibling branches may report noise; only additionalProperties matter here.
      continue
    }
    const where = `${error.instancePath}/${error.params.additionalProperty}`
    const rule = KNOWN_EXTRAS.find((candidate) => candidate.pattern.test(where))
    if (rule === undefined) unexpected.push(where)
    else known.set(rule.why, [...(known.get(rule.why) ?? []), where])
  }
  if (unexpected.length > 0) {
    fail(name, `undeclared properties ${unexpected.slice(0, 8).join(', ')}`)
    return
  }
  ok(name)
  for (const [why, wheres] of known) {
    const shown = [...new Set(wheres.map((w) => w.replace(/\/\d+\//g, '/*/')))].join(', ')
    note(name, `undeclared ${shown}: ${why}`)
  }
}

function expect (name: string, condition: boolean, detail: string): void {
  if (condition) ok(name)
  else fail(name, detail)
}

// ---------------------------------------------------------------------------------------------
// Traffic

const SEND_PATH = '/sms/2/text/advanced'
const NOTIFY_URL = 'https://sms.example.com/webhooks/infobip/delivery-reports?token=conformance'

interface SdkError extends Error { code?: string, response?: { status: number, data: unknown, headers: Record<string, unknown> } }
interface SmsChannel { send: (payload: Json) => Promise<unknown> }

function sdk (fake: FakeInfobip, apiKey = fake.apiKey): SmsChannel {
  const client = new Infobip({ baseUrl: fake.url, apiKey, authType: AuthType.ApiKey })
  const sms = client.channels.sms as SmsChannel & { http: { axios: { defaults: { timeout: number } } } }
  sms.http.axios.defaults.timeout = 5000
  return sms
}

/** Realistic payloads, as the service sends them: one recipient, and campaign batches of many messages × destinations. */
function payloads (): Array<{ name: string, payload: Json }> {
  const sendAt = new Date(Date.now() + 3_600_000).toISOString()
  return [
    { name: 'minimal single destination', payload: { messages: [{ destinations: [{ to: '41793026727' }], text: 'Your code is 1234' }] } },
    {
      name: 'single destination with our messageId',
      payload: { messages: [{ destinations: [{ to: '41793026727', messageId: 'msg-0001' }], from: 'InfoSMS', text: 'Hello from the service', notifyUrl: NOTIFY_URL, notifyContentType: 'application/json', validityPeriod: 720 }] }
    },
    {
      name: 'batch of messages with several destinations',
      payload: {
        bulkId: 'campaign-42-batch-1',
        messages: [
          {
            destinations: [{ to: '41793026727', messageId: 'msg-1001' }, { to: '41793026728', messageId: 'msg-1002' }, { to: '41793026729', messageId: 'msg-1003' }],
            from: 'OurBrand',
            text: 'Hi Ana, 20% off this weekend. Reply STOP to opt out.',
            notifyUrl: NOTIFY_URL,
            notifyContentType: 'application/json',
            callbackData: JSON.stringify({ campaignId: 'campaign-42', batch: 1 }),
            validityPeriod: 2880
          },
          {
            destinations: [{ to: '447491163443', messageId: 'msg-1004' }, { to: '447491163444', messageId: 'msg-1005' }],
            from: 'OurBrand',
            text: 'Grüße, Zoë 👋 — neue Angebote. Reply STOP to opt out.',
            notifyUrl: NOTIFY_URL,
            notifyContentType: 'application/json',
            callbackData: 'campaign-42',
            validityPeriod: 60
          }
        ]
      }
    },
    {
      name: 'scheduled send with delivery window and speed limit',
      payload: {
        bulkId: 'campaign-43',
        messages: [{
          destinations: [{ to: '41793026730', messageId: 'msg-2001' }],
          from: 'OurBrand',
          text: 'Scheduled reminder',
          sendAt,
          deliveryTimeWindow: { days: ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY'], from: { hour: 8, minute: 0 }, to: { hour: 20, minute: 0 } },
          notifyUrl: NOTIFY_URL,
          notifyContentType: 'application/json'
        }],
        sendingSpeedLimit: { amount: 50, timeUnit: 'MINUTE' }
      }
    }
  ]
}

interface Provider { send: (messages: unknown[]) => Promise<unknown>, lookup?: (ids: string[]) => Promise<unknown[]>, close: () => Promise<void> }
type ProviderFactory = (options: Json) => Provider

/** src/services/infobip.ts when it exists and loads; this script must not depend on it. */
async function loadProvider (): Promise<{ factory: ProviderFactory } | { reason: string }> {
  const file = resolve(root, 'src/services/infobip.ts')
  if (!existsSync(file)) return { reason: 'src/services/infobip.ts does not exist' }
  try {
    const mod = await import(pathToFileURL(file).href) as { createInfobipProvider?: unknown }
    if (typeof mod.createInfobipProvider !== 'function') return { reason: 'src/services/infobip.ts does not export createInfobipProvider' }
    return { factory: mod.createInfobipProvider as ProviderFactory }
  } catch (error) {
    return { reason: `src/services/infobip.ts failed to load (${(error as Error).message.split('\n')[0] ?? ''})` }
  }
}

const silentLog: Json = new Proxy({}, {
  get: (_target, key) => key === 'child' ? () => silentLog : () => {}
})

async function main (): Promise<void> {
  console.log(`# OpenAPI: ${specPath} (${String((doc.info as Json | undefined)?.version ?? '?')})`)
  const fake = await startFakeInfobip()
  try {
    const sendRequestRef = requestSchema(SEND_PATH, 'post')
    const send200 = responseSchema(SEND_PATH, 'post', 200)

    // The closed-world pass must not be vacuous: a misspelt property has to be caught.
    if (send200 !== null) {
      const misspelt = { bulkId: 'b', messages: [{ to: '41793026727', messageID: 'm', status: { groupId: 1 } }] }
      expect('sanity: closed schemas reject a misspelt property', validator(OPEN, send200.ref)(misspelt) && !validator(CLOSED, send200.ref)(misspelt),
        'the closed copy accepted messages[0].messageID')
    }

    // (a) + (b) success: requests through the raw SDK, and the responses the fake gave them.
    const client = sdk(fake)
    for (const { name, payload } of payloads()) {
      const destinations = (payload.messages as Array<{ destinations: Array<{ to: string, messageId?: string }> }>).flatMap((m) => m.destinations)
      const before = fake.sendRequests().length
      const result = await client.send(payload)
      if (result instanceof Error) {
        fail(`send ${name} (sdk)`, `SDK resolved to an error: ${result.message}`)
        continue
      }
      const received = fake.sendRequests().slice(before)
      expect(`send ${name} (sdk): one request received`, received.length === 1, `received ${received.length}`)
      for (const request of received) check(`request ${name} (sdk)`, sendRequestRef, request.body)
      const data = (result as { data: unknown }).data
      check(`response 200 ${name}`, send200?.ref ?? null, data)
      const messages = isObject(data) && Array.isArray(data.messages) ? data.messages as Json[] : []
      const echoed = destinations.every((d, i) => messages[i]?.to === d.to && (d.messageId === undefined || messages[i]?.messageId === d.messageId))
      expect(`response 200 ${name}: one entry per destination, in order, messageIds echoed`,
        messages.length === destinations.length && echoed && isObject(data) && typeof data.bulkId === 'string' &&
        (payload.bulkId === undefined || data.bulkId === payload.bulkId),
        JSON.stringify(data).slice(0, 300))
    }

    // (a) through our provider, when it is there.
    const provider = await loadProvider()
    if ('reason' in provider) {
      note('provider', `${provider.reason}; only the raw SDK path was checked`)
    } else {
      const before = fake.sendRequests().length
      let instance: Provider | undefined
      try {
        instance = provider.factory({
          baseUrl: fake.url,
          apiKey: fake.apiKey,
          timeoutMs: 5000,
          retry: { retries: 0, minDelayMs: 1, maxDelayMs: 2 },
          retryAfterMaxMs: 60_000,
          circuit: { errorThresholdPercentage: 50, volumeThreshold: 1000, windowMs: 1000, resetTimeoutMs: 1000 },
          log: silentLog,
          metrics: undefined
        })
        await instance.send([{ messageId: 'prov-0001', to: '+41793026727', text: 'Your code is 1234' }])
        await instance.send([
          { messageId: 'prov-1001', to: '+41793026727', text: 'Campaign text. Reply STOP to opt out.', from: 'OurBrand', notifyUrl: NOTIFY_URL },
          { messageId: 'prov-1002', to: '+41793026728', text: 'Campaign text. Reply STOP to opt out.', from: 'OurBrand', notifyUrl: NOTIFY_URL },
          { messageId: 'prov-1003', to: '+447491163443', text: 'Grüße 👋 Reply STOP to opt out.', from: 'OurBrand', notifyUrl: NOTIFY_URL }
        ])
        const received = fake.sendRequests().slice(before)
        expect('provider sends reached the fake', received.length === 2, `received ${received.length}`)
        received.forEach((request, i) => check(`request #${i + 1} (createInfobipProvider)`, sendRequestRef, request.body))
        if (instance.lookup !== undefined) {
          const logsBefore = fake.logRequests().length
          const found = await instance.lookup(['prov-0001', 'prov-1001', 'prov-1003', 'prov-unknown'])
          const asked = fake.logRequests().slice(logsBefore)
          expect('provider lookup: one GET /sms/1/logs with the ids comma-separated', asked.length === 1 &&
            asked[0]?.query.messageId === 'prov-0001,prov-1001,prov-1003,prov-unknown', JSON.stringify(asked.map((r) => r.query)))
          expect('provider lookup: finds the three accepted messages', found.length === 3, `found ${found.length}`)
        }
      } catch (error) {
        fail('provider sends', (error as Error).message)
      } finally {
        await instance?.close()
      }
    }

    // (b) errors.
    const headers = { authorization: `App ${fake.apiKey}`, 'content-type': 'application/json' }
    const checkError = (name: string, status: number, actual: number | undefined, body: unknown): void => {
      const schema = responseSchema(SEND_PATH, 'post', status)
      if (actual !== status) {
        fail(name, `expected HTTP ${status}, got ${String(actual)}`)
        return
      }
      if (schema?.fallback !== undefined) note(name, `${status} is not documented for POST ${SEND_PATH}; validated against ${schema.fallback}`)
      check(name, schema?.ref ?? null, body)
      const exception = isObject(body) && isObject(body.requestError) && isObject(body.requestError.serviceException) ? body.requestError.serviceException : null
      expect(`${name}: requestError.serviceException has messageId and text`,
        exception !== null && typeof exception.messageId === 'string' && typeof exception.text === 'string', JSON.stringify(body))
    }

    const invalidJson = await fetch(`${fake.url}${SEND_PATH}`, { method: 'POST', headers, body: '{"messages": [' })
    checkError('response 400 invalid JSON', 400, invalidJson.status, await invalidJson.json())
    const noDestinations = await fetch(`${fake.url}${SEND_PATH}`, { method: 'POST', headers, body: JSON.stringify({ messages: [{ text: 'x', destinations: [] }] }) })
    checkError('response 400 validation errors', 400, noDestinations.status, await noDestinations.json())

    const errorCases: Array<{ name: string, status: number, apiKey?: string, headers?: Record<string, string> }> = [
      { name: 'response 401 wrong API key', status: 401, apiKey: 'not-the-key' },
      { name: 'response 429 too many requests', status: 429, headers: { 'Retry-After': '3' } },
      { name: 'response 500 general error', status: 500 },
      { name: 'response 503 unavailable', status: 503 }
    ]
    for (const errorCase of errorCases) {
      if (errorCase.apiKey === undefined) fake.enqueue({ kind: 'error', status: errorCase.status, ...(errorCase.headers !== undefined ? { headers: errorCase.headers } : {}) })
      const result = await sdk(fake, errorCase.apiKey).send(payloads()[0]?.payload ?? {}) as SdkError
      if (!(result instanceof Error)) {
        fail(errorCase.name, 'SDK resolved to a success')
        continue
      }
      checkError(errorCase.name, errorCase.status, result.response?.status, result.response?.data)
      if (errorCase.status === 429) {
        expect('response 429: Retry-After visible to the SDK', result.response?.headers['retry-after'] === '3', JSON.stringify(result.response?.headers))
      }
    }

    const notFound = await fetch(`${fake.url}/sms/9/unknown`, { headers })
    expect('response 404 unknown path', notFound.status === 404, `got ${notFound.status}`)
    check('response 404 unknown path body (generic ApiException)', pointer('components', 'schemas', 'ApiException'), await notFound.json())

    const reports = await fetch(`${fake.url}/sms/1/reports?limit=10`, { headers })
    check('response 200 GET /sms/1/reports', responseSchema('/sms/1/reports', 'get', 200)?.ref ?? null, await reports.json())

    // The message logs the reconciler reads after a crash, for messages the fake accepted above.
    const loggedIds = [...fake.logs.keys()].slice(0, 5)
    const logs = await fetch(`${fake.url}/sms/1/logs?messageId=${loggedIds.map(encodeURIComponent).join(',')}`, { headers })
    const logsBody = await logs.json() as { results?: unknown[] }
    expect('response 200 GET /sms/1/logs returns every requested message', loggedIds.length > 0 && logsBody.results?.length === loggedIds.length, JSON.stringify(logsBody).slice(0, 200))
    check('response 200 GET /sms/1/logs', responseSchema('/sms/1/logs', 'get', 200)?.ref ?? null, logsBody)
    const repeated = await fetch(`${fake.url}/sms/1/logs?${loggedIds.map((id) => `messageId=${encodeURIComponent(id)}`).join('&')}`, { headers })
    expect('response 200 GET /sms/1/logs takes repeated messageId parameters too', JSON.stringify(await repeated.json()) === JSON.stringify(logsBody), 'results differ from the comma-separated form')

    // The fake's modes for "exactly once": a duplicate answer and a lagging log are still Infobip's bodies.
    fake.setDuplicateIds(true)
    const again = await client.send({ messages: [{ destinations: [{ to: '41793026727', messageId: 'msg-0001' }], text: 'Hello again' }] })
    const againData = again instanceof Error ? null : (again as { data: unknown }).data
    check('response 200 duplicate messageId (idempotent sending)', send200?.ref ?? null, againData)
    const duplicateStatus = isObject(againData) && Array.isArray(againData.messages) ? (againData.messages[0] as Json | undefined)?.status : undefined
    expect('response 200 duplicate messageId: REJECTED_DUPLICATE_MESSAGE_ID (5/23), not accepted again',
      isObject(duplicateStatus) && duplicateStatus.groupId === 5 && duplicateStatus.id === 23 && fake.acceptances.get('msg-0001') === 1, JSON.stringify(againData))
    fake.setDuplicateIds(false)
    fake.setLogLag({ lookups: 1 })
    fake.enqueue({ kind: 'slow', ms: 50 })
    await client.send({ messages: [{ destinations: [{ to: '41793026727', messageId: 'msg-lag-1' }], text: 'Late log' }] })
    const hidden = await (await fetch(`${fake.url}/sms/1/logs?messageId=msg-lag-1`, { headers })).json() as { results: unknown[] }
    const shown = await (await fetch(`${fake.url}/sms/1/logs?messageId=msg-lag-1`, { headers })).json() as { results: unknown[] }
    expect('log lag: hidden on the first look-up, shown on the second', hidden.results.length === 0 && shown.results.length === 1, JSON.stringify({ hidden, shown }).slice(0, 200))
    check('response 200 GET /sms/1/logs after the lag', responseSchema('/sms/1/logs', 'get', 200)?.ref ?? null, shown)

    // Delivery reports the fake POSTs to the notifyUrl a message carried.
    const received: unknown[] = []
    const sink = createServer((req, res) => {
      let raw = ''
      req.on('data', (chunk: Buffer) => { raw += chunk.toString('utf8') })
      req.on('end', () => { received.push(JSON.parse(raw)); res.writeHead(200).end('{}') })
    })
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve))
    try {
      const notifyUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/webhooks/infobip/delivery-reports?token=conformance`
      await client.send({ messages: [{ destinations: [{ to: '41793026727', messageId: 'msg-dlr-1' }, { to: '41793026728', messageId: 'msg-dlr-2' }], text: 'Report me', notifyUrl, notifyContentType: 'application/json' }] })
      const statuses = await fake.deliverReports(['msg-dlr-1', 'msg-dlr-2'])
      expect('deliverReports: one POST to the notifyUrl, answered 200', statuses.length === 1 && statuses[0] === 200 && received.length === 1, JSON.stringify(statuses))
      check('deliverReports body (webhook receive-outbound-sms-message-reports)', webhookSchema('receive-outbound-sms-message-reports'), received[0])
    } finally {
      await new Promise<void>((resolve) => sink.close(() => resolve()))
    }
  } finally {
    await fake.close()
  }

  // (c) webhook bodies.
  const deliveryWebhook = webhookSchema('receive-outbound-sms-message-reports')
  const reportsResponse = responseSchema('/sms/1/reports', 'get', 200)?.ref ?? null
  const statuses = Object.keys(REPORT_STATUSES) as DeliveryReportStatus[]
  for (const status of statuses) {
    const body = deliveryReportBody([
      { messageId: `dlr-${status}-1`, to: '41793026727', status },
      { messageId: `dlr-${status}-2`, to: '41793026728', status, bulkId: 'campaign-42-batch-1', price: 0.0123, callbackData: '{"campaignId":"campaign-42"}', sentAt: '2019-11-09T15:59:58.000+0000', doneAt: '2019-11-09T16:00:00.000+0000' }
    ])
    check(`deliveryReportBody ${status} (webhook receive-outbound-sms-message-reports)`, deliveryWebhook, body)
    check(`deliveryReportBody ${status} (GET /sms/1/reports 200)`, reportsResponse, body)
  }
  check('deliveryReportBody with errorName EC_ABSENT_SUBSCRIBER', deliveryWebhook,
    deliveryReportBody([{ messageId: 'dlr-absent', to: '41793026727', status: 'EXPIRED', errorName: 'EC_ABSENT_SUBSCRIBER' }]))
  if (isObject(at(pointer('webhooks', 'receive-outbound-sms-message-reports', 'post'))) &&
      (at(pointer('webhooks', 'receive-outbound-sms-message-reports', 'post', 'deprecated')) === true)) {
    note('delivery report webhook', 'marked deprecated in the document (superseded by the /sms/3 report format); the v2 body is what notifyUrl receives for /sms/2/text/advanced sends')
  }

  const inboundWebhook = webhookSchema('receive-inbound-sms-messages')
  const inboxResponse = responseSchema('/sms/1/inbox/reports', 'get', 200)?.ref ?? null
  const inbound = inboundBody([
    { from: '41793026727', text: 'STOP' },
    { from: '41793026728', text: 'help me please', to: '41793026834', messageId: 'mo-2', receivedAt: '2019-11-09T16:00:00.000+0000' },
    { from: '447491163443', text: 'Grüße 👋', callbackData: 'cb' }
  ])
  check('inboundBody (webhook receive-inbound-sms-messages)', inboundWebhook, inbound)
  check('inboundBody (GET /sms/1/inbox/reports 200)', inboxResponse, inbound)
  if (inboundWebhook !== null) {
    const withNull = { ...inbound, results: inbound.results.map((r) => ({ ...(r as Json), callbackData: null })) }
    if (!validator(OPEN, inboundWebhook)(withNull)) {
      note('inboundBody callbackData', 'the schema types callbackData as string (not nullable), so `callbackData: null` would not conform; the builder omits it unless given')
    }
  }
}

try {
  await main()
} catch (error) {
  fail('run', (error as Error).stack ?? String(error))
}
console.log(failures === 0 ? '# all checks passed' : `# ${failures} check(s) failed`)
process.exitCode = failures === 0 ? 0 : 1
