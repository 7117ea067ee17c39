/**
 * A fake Infobip SMS API over real HTTP on 127.0.0.1, for integration tests and benchmarks.
 *
 * It speaks the parts of Infobip's API the service uses, with the bodies Infobip documents
 * (checked against Infobip's OpenAPI document by scripts/check-infobip-conformance.ts):
 * - POST /sms/2/text/advanced → 200 `{ bulkId, messages: [{ to, messageId, status }] }`, or a scripted failure;
 * - GET /sms/1/reports → 200 `{ results: [] }`;
 * - anything else → 404; a missing or wrong `Authorization: App <key>` → 401, before anything else.
 * Errors use the v1/v2 shape `{ requestError: { serviceException: { messageId, text } } }`.
 *
 * Per-request work is kept to parsing the body and one JSON.stringify, so it can serve thousands of
 * requests per second; connections are kept alive.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'

export interface RecordedRequest {
  method: string
  path: string
  query: Record<string, string>
  headers: Record<string, string | string[] | undefined>
  body: unknown
  receivedAt: number
}

export interface InfobipStatus {
  groupId: number
  groupName: string
  id: number
  name: string
  description: string
}

export type FakeBehaviour =
  /** 200 with `status` (default PENDING_ACCEPTED) for every destination. */
  | { kind: 'ok', status?: InfobipStatus }
  /** An Infobip error body; `messageId` defaults by status (400 BAD_REQUEST, 401 UNAUTHORIZED, 429 TOO_MANY_REQUESTS, 5xx GENERAL_ERROR). */
  | { kind: 'error', status: number, messageId?: string, text?: string, headers?: Record<string, string> }
  /** Accept the request and never answer (until close()). */
  | { kind: 'hang' }
  /** Destroy the socket without a response: the client sees a network error. */
  | { kind: 'reset' }
  /** Wait, then behave as `then`. */
  | { kind: 'delay', ms: number, then: FakeBehaviour }

export interface FakeInfobip {
  /** 'http://127.0.0.1:PORT' */
  url: string
  /** The key it accepts as `Authorization: App <apiKey>`. */
  apiKey: string
  /** Every request received, in order, including rejected ones. */
  requests: RecordedRequest[]
  /** Only POST /sms/2/text/advanced. */
  sendRequests: () => RecordedRequest[]
  /** Message logs of the sends it accepted, by messageId (GET /sms/1/logs?messageId=a,b). */
  logs: Map<string, LogEntry>
  /** One-shot behaviours for the next send requests (FIFO); when none is queued the default applies. */
  enqueue: (...behaviours: FakeBehaviour[]) => void
  setDefault: (behaviour: FakeBehaviour) => void
  /** Clears requests and the queue; the default goes back to ok. */
  reset: () => void
  /** Stops the server; hanging and delayed requests are ended too. */
  close: () => Promise<void>
}

export interface FakeInfobipOptions {
  apiKey?: string
  /** Keep every request in `requests` (default true). Benchmarks can turn it off to keep memory flat. */
  record?: boolean
}

export const SEND_PATH = '/sms/2/text/advanced'
export const REPORTS_PATH = '/sms/1/reports'
export const LOGS_PATH = '/sms/1/logs'

/** One entry of GET /sms/1/logs, as Infobip keeps them for 48 h. */
export interface LogEntry {
  bulkId: string
  messageId: string
  to: string
  from?: string
  text: string
  sentAt: string
  doneAt: string
  smsCount: number
  price: { pricePerMessage: number, currency: string }
  status: InfobipStatus
  error: InfobipError
}

export const PENDING_ACCEPTED: InfobipStatus = Object.freeze({
  groupId: 1,
  groupName: 'PENDING',
  id: 26,
  name: 'PENDING_ACCEPTED',
  description: 'Message sent to next instance'
})

const OK: FakeBehaviour = { kind: 'ok' }

const ERROR_TEXT: Record<string, string> = {
  BAD_REQUEST: 'Bad request',
  UNAUTHORIZED: 'Invalid login details',
  FORBIDDEN: 'Forbidden',
  NOT_FOUND: 'Requested resource not found',
  TOO_MANY_REQUESTS: 'Too many requests',
  GENERAL_ERROR: 'Something went wrong. Please contact support.'
}

function defaultMessageId (status: number): string {
  if (status === 401) return 'UNAUTHORIZED'
  if (status === 403) return 'FORBIDDEN'
  if (status === 404) return 'NOT_FOUND'
  if (status === 429) return 'TOO_MANY_REQUESTS'
  if (status >= 500) return 'GENERAL_ERROR'
  return 'BAD_REQUEST'
}

/** Infobip's v1/v2 error body. */
export function errorBody (messageId: string, text?: string, validationErrors?: Record<string, string[]>): unknown {
  return {
    requestError: {
      serviceException: {
        messageId,
        text: text ?? ERROR_TEXT[messageId] ?? messageId,
        ...(validationErrors !== undefined ? { validationErrors } : {})
      }
    }
  }
}

/** Rough segment count (GSM-7 single/concatenated sizes); only used when includeSmsCountInResponse is set. */
function smsCount (text: unknown): number {
  const length = typeof text === 'string' ? text.length : 0
  return length <= 160 ? 1 : Math.ceil(length / 153)
}

interface Destination { to: string, messageId?: unknown }
interface SendMessage { destinations: Destination[], text?: unknown, from?: unknown }
interface SendBody { bulkId?: unknown, messages: SendMessage[], includeSmsCountInResponse?: unknown }

/** Returns the validation errors of a send body in Infobip's `validationErrors` shape, or null when it is usable. */
function checkSendBody (body: unknown): Record<string, string[]> | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { body: ['must be a JSON object'] }
  const messages = (body as { messages?: unknown }).messages
  if (!Array.isArray(messages) || messages.length === 0) return { messages: ['must not be empty'] }
  for (let i = 0; i < messages.length; i++) {
    const message: unknown = messages[i]
    if (typeof message !== 'object' || message === null) return { [`messages[${i}]`]: ['must be an object'] }
    const destinations = (message as { destinations?: unknown }).destinations
    if (!Array.isArray(destinations) || destinations.length === 0) return { [`messages[${i}].destinations`]: ['must not be empty'] }
    for (let j = 0; j < destinations.length; j++) {
      const destination: unknown = destinations[j]
      const to = typeof destination === 'object' && destination !== null ? (destination as { to?: unknown }).to : undefined
      if (typeof to !== 'string' || to.length === 0) return { [`messages[${i}].destinations[${j}].to`]: ['must not be blank'] }
    }
  }
  return null
}

interface SuccessBody { bulkId: string, messages: Array<{ to: string, messageId: string, status: InfobipStatus, smsCount?: number }> }

function successBody (body: SendBody, status: InfobipStatus): SuccessBody {
  const withCount = body.includeSmsCountInResponse === true
  const out: SuccessBody['messages'] = []
  for (const message of body.messages) {
    const count = withCount ? smsCount(message.text) : 0
    for (const destination of message.destinations) {
      const messageId = typeof destination.messageId === 'string' && destination.messageId !== '' ? destination.messageId : randomUUID()
      out.push(withCount
        ? { to: destination.to, messageId, status, smsCount: count }
        : { to: destination.to, messageId, status })
    }
  }
  return { bulkId: typeof body.bulkId === 'string' && body.bulkId !== '' ? body.bulkId : randomUUID(), messages: out }
}

function parseQuery (search: string): Record<string, string> {
  const query: Record<string, string> = {}
  if (search === '') return query
  for (const [key, value] of new URLSearchParams(search)) query[key] = value
  return query
}

function sendJson (res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
  if (res.destroyed || res.writableEnded) return
  const text = JSON.stringify(body)
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json;charset=UTF-8',
    'content-length': Buffer.byteLength(text)
  })
  res.end(text)
}

export async function startFakeInfobip (options: FakeInfobipOptions = {}): Promise<FakeInfobip> {
  const apiKey = options.apiKey ?? `fake-key-${randomUUID()}`
  const expectedAuthorization = `App ${apiKey}`
  const record = options.record ?? true
  const requests: RecordedRequest[] = []
  let queue: FakeBehaviour[] = []
  let defaultBehaviour: FakeBehaviour = OK
  const logs = new Map<string, LogEntry>()
  const pending = new Set<ServerResponse>()
  const timers = new Set<NodeJS.Timeout>()
  let closing: Promise<void> | null = null

  function sendError (res: ServerResponse, status: number, messageId?: string, text?: string, headers?: Record<string, string>): void {
    sendJson(res, status, errorBody(messageId ?? defaultMessageId(status), text), headers)
  }

  function apply (behaviour: FakeBehaviour, req: IncomingMessage, res: ServerResponse, body: SendBody): void {
    switch (behaviour.kind) {
      case 'ok': {
        const answer = successBody(body, behaviour.status ?? PENDING_ACCEPTED)
        if (record) remember(body, answer)
        sendJson(res, 200, answer)
        return
      }
      case 'error':
        sendError(res, behaviour.status, behaviour.messageId, behaviour.text, behaviour.headers)
        return
      case 'hang':
        pending.add(res)
        res.once('close', () => pending.delete(res))
        return
      case 'reset':
        req.socket.destroy()
        return
      case 'delay': {
        pending.add(res)
        res.once('close', () => pending.delete(res))
        const timer = setTimeout(() => {
          timers.delete(timer)
          pending.delete(res)
          if (!res.destroyed) apply(behaviour.then, req, res, body)
        }, behaviour.ms)
        timers.add(timer)
      }
    }
  }

  /** What Infobip's message logs would show for an accepted send. */
  function remember (body: SendBody, answer: SuccessBody): void {
    const now = infobipTimestamp()
    let i = 0
    for (const message of body.messages) {
      for (const destination of message.destinations) {
        const entry = answer.messages[i++]
        if (entry === undefined) continue
        logs.set(entry.messageId, {
          bulkId: answer.bulkId,
          messageId: entry.messageId,
          to: String(destination.to),
          ...(typeof message.from === 'string' ? { from: message.from } : {}),
          text: typeof message.text === 'string' ? message.text : '',
          sentAt: now,
          doneAt: now,
          smsCount: 1,
          price: { pricePerMessage: 0.01, currency: 'EUR' },
          status: entry.status,
          error: { ...REPORT_ERRORS.NO_ERROR! }
        })
      }
    }
  }

  function handle (req: IncomingMessage, res: ServerResponse, raw: string): void {
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const path = q === -1 ? url : url.slice(0, q)
    const method = req.method ?? 'GET'
    let body: unknown
    let invalidJson = false
    if (raw !== '') {
      try {
        body = JSON.parse(raw)
      } catch {
        body = raw
        invalidJson = true
      }
    }
    if (record) {
      requests.push({ method, path, query: parseQuery(q === -1 ? '' : url.slice(q + 1)), headers: req.headers, body, receivedAt: Date.now() })
    }

    if (req.headers.authorization !== expectedAuthorization) {
      sendError(res, 401)
      return
    }
    if (method === 'POST' && path === SEND_PATH) {
      if (invalidJson) {
        sendError(res, 400, 'BAD_REQUEST', 'Invalid JSON in request body')
        return
      }
      const validationErrors = checkSendBody(body)
      if (validationErrors !== null) {
        sendJson(res, 400, errorBody('BAD_REQUEST', 'Bad request', validationErrors))
        return
      }
      apply(queue.shift() ?? defaultBehaviour, req, res, body as SendBody)
      return
    }
    if (method === 'GET' && path === REPORTS_PATH) {
      sendJson(res, 200, { results: [] })
      return
    }
    if (method === 'GET' && path === LOGS_PATH) {
      const wanted = (parseQuery(q === -1 ? '' : url.slice(q + 1)).messageId ?? '').split(',').filter((id) => id !== '')
      sendJson(res, 200, { results: wanted.flatMap((id) => logs.has(id) ? [logs.get(id)!] : []) })
      return
    }
    sendError(res, 404, 'NOT_FOUND', `Requested URL not found: ${method} ${path}`)
  }

  const server = createServer((req, res) => {
    let raw = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => { raw += chunk })
    req.on('end', () => handle(req, res, raw))
    req.on('error', () => { /* client went away; nothing to answer */ })
  })
  // Longer than the usual client idle timeouts, so pooled sockets are not closed under a client mid-reuse.
  server.keepAliveTimeout = 30_000
  server.headersTimeout = 31_000

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    requests,
    sendRequests: () => requests.filter((r) => r.method === 'POST' && r.path === SEND_PATH),
    logs,
    enqueue: (...behaviours) => { queue.push(...behaviours) },
    setDefault: (behaviour) => { defaultBehaviour = behaviour },
    reset: () => {
      requests.length = 0
      logs.clear()
      queue = []
      defaultBehaviour = OK
    },
    close: async () => {
      if (closing !== null) return await closing
      closing = new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer)
        timers.clear()
        for (const res of pending) res.destroy()
        pending.clear()
        server.close(() => resolve())
        server.closeAllConnections()
      })
      return await closing
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Webhook bodies, as Infobip POSTs them to notifyUrl (delivery reports) and to the inbound URL.

export type DeliveryReportStatus = 'DELIVERED' | 'UNDELIVERABLE' | 'EXPIRED' | 'REJECTED' | 'PENDING' | 'DELIVERED_TO_OPERATOR'

export const REPORT_STATUSES: Readonly<Record<DeliveryReportStatus, InfobipStatus>> = Object.freeze({
  DELIVERED: { groupId: 3, groupName: 'DELIVERED', id: 5, name: 'DELIVERED_TO_HANDSET', description: 'Message delivered to handset' },
  UNDELIVERABLE: { groupId: 2, groupName: 'UNDELIVERABLE', id: 9, name: 'UNDELIVERABLE_NOT_DELIVERED', description: 'Message sent not delivered' },
  EXPIRED: { groupId: 4, groupName: 'EXPIRED', id: 15, name: 'EXPIRED_EXPIRED', description: 'Message expired' },
  REJECTED: { groupId: 5, groupName: 'REJECTED', id: 6, name: 'REJECTED_NETWORK', description: 'Network is forbidden' },
  PENDING: { groupId: 1, groupName: 'PENDING', id: 7, name: 'PENDING_ENROUTE', description: 'Message sent to next instance' },
  DELIVERED_TO_OPERATOR: { groupId: 3, groupName: 'DELIVERED', id: 2, name: 'DELIVERED_TO_OPERATOR', description: 'Message delivered to operator' }
})

export interface InfobipError {
  groupId: number
  groupName: string
  id: number
  name: string
  description: string
  permanent: boolean
}

export const REPORT_ERRORS: Readonly<Record<string, InfobipError>> = Object.freeze({
  NO_ERROR: { groupId: 0, groupName: 'OK', id: 0, name: 'NO_ERROR', description: 'No Error', permanent: false },
  EC_UNKNOWN_SUBSCRIBER: { groupId: 1, groupName: 'HANDSET_ERRORS', id: 1, name: 'EC_UNKNOWN_SUBSCRIBER', description: 'Unknown Subscriber', permanent: true },
  EC_ABSENT_SUBSCRIBER: { groupId: 1, groupName: 'HANDSET_ERRORS', id: 27, name: 'EC_ABSENT_SUBSCRIBER', description: 'Absent Subscriber', permanent: false }
})

/** Infobip's timestamp format: '2019-11-09T16:00:00.000+0000'. */
export function infobipTimestamp (date: Date = new Date()): string {
  return date.toISOString().replace('Z', '+0000')
}

export interface DeliveryReportInput {
  messageId: string
  to: string
  bulkId?: string
  status?: DeliveryReportStatus
  price?: number
  /** NO_ERROR, EC_UNKNOWN_SUBSCRIBER and EC_ABSENT_SUBSCRIBER map to Infobip's ids; other names get a generic non-permanent handset error. */
  errorName?: string
  doneAt?: string
  sentAt?: string
  callbackData?: string
  from?: string
}

function reportError (status: DeliveryReportStatus, errorName: string | undefined): InfobipError {
  const name = errorName ?? (status === 'UNDELIVERABLE' ? 'EC_UNKNOWN_SUBSCRIBER' : 'NO_ERROR')
  return REPORT_ERRORS[name] ?? { groupId: 1, groupName: 'HANDSET_ERRORS', id: 99, name, description: name, permanent: false }
}

/** A delivery-report body (`{ results }`), status DELIVERED unless given. */
export function deliveryReportBody (results: DeliveryReportInput[]): { results: unknown[] } {
  const now = Date.now()
  const sentAt = infobipTimestamp(new Date(now - 2000))
  const doneAt = infobipTimestamp(new Date(now))
  const bulkId = `fake-bulk-${randomUUID()}`
  return {
    results: results.map((r) => {
      const status = r.status ?? 'DELIVERED'
      return {
        bulkId: r.bulkId ?? bulkId,
        messageId: r.messageId,
        to: r.to,
        from: r.from ?? 'InfoSMS',
        sentAt: r.sentAt ?? sentAt,
        doneAt: r.doneAt ?? doneAt,
        smsCount: 1,
        mccMnc: '22801',
        // The schema types callbackData as a string (not nullable), so it is left out when there is none.
        ...(r.callbackData !== undefined ? { callbackData: r.callbackData } : {}),
        price: { pricePerMessage: r.price ?? (status === 'REJECTED' ? 0 : 0.01), currency: 'EUR' },
        status: { ...REPORT_STATUSES[status] },
        error: { ...reportError(status, r.errorName) }
      }
    })
  }
}

export interface InboundInput {
  from: string
  text: string
  to?: string
  messageId?: string
  receivedAt?: string
  callbackData?: string
}

/** An inbound-SMS body (`{ results, messageCount, pendingMessageCount }`). keyword = first word, upper-cased. */
export function inboundBody (messages: InboundInput[]): { results: unknown[], messageCount: number, pendingMessageCount: number } {
  const receivedAt = infobipTimestamp()
  const results = messages.map((m) => {
    const trimmed = m.text.trim()
    const space = trimmed.search(/\s/)
    const keyword = (space === -1 ? trimmed : trimmed.slice(0, space)).toUpperCase()
    const cleanText = space === -1 ? '' : trimmed.slice(space).trim()
    return {
      messageId: m.messageId ?? `fake-mo-${randomUUID()}`,
      from: m.from,
      to: m.to ?? '41793026834',
      text: m.text,
      cleanText,
      keyword,
      receivedAt: m.receivedAt ?? receivedAt,
      smsCount: smsCount(m.text),
      price: { pricePerMessage: 0, currency: 'EUR' },
      // Infobip's schema types callbackData as a string (not nullable): omitted unless given.
      ...(m.callbackData !== undefined ? { callbackData: m.callbackData } : {})
    }
  })
  return { results, messageCount: results.length, pendingMessageCount: 0 }
}
