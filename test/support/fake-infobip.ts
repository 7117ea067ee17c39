/**
 * A fake Infobip SMS API over real HTTP on 127.0.0.1, for integration tests and benchmarks.
 *
 * It speaks the parts of Infobip's API the service uses, with the bodies Infobip documents
 * (checked against Infobip's OpenAPI document by scripts/check-infobip-conformance.ts):
 * - POST /sms/2/text/advanced → 200 `{ bulkId, messages: [{ to, messageId, status }] }`, or a scripted failure;
 * - GET /sms/1/logs?messageId= → 200 `{ results }`: the messages it accepted, several ids comma-separated
 *   and/or as repeated `messageId` parameters (Infobip documents both), optionally lagging behind acceptance;
 * - GET /sms/1/reports → 200 `{ results: [] }`;
 * - anything else → 404; a missing or wrong `Authorization: App <key>` → 401, before anything else.
 * Errors use the v1/v2 shape `{ requestError: { serviceException: { messageId, text } } }`.
 *
 * What the tests of "exactly once" need: every acceptance is counted per messageId (`acceptances`); a
 * `slow` answer accepts at receipt and answers later (so a client that times out leaves Infobip holding
 * the message); `duplicateIds: true` plays Infobip's idempotent message sending (a re-sent messageId is
 * answered REJECTED_DUPLICATE_MESSAGE_ID and not accepted again); `outage` scripts 503s and then refused
 * connections; `deliverReports` POSTs delivery reports to the notifyUrl each message carried.
 *
 * Per-request work is kept to parsing the body, a few map operations per destination and one
 * JSON.stringify, so it can serve thousands of requests per second; connections are kept alive.
 *
 * For a harness in another process (`npm run prove`), `control: true` serves a small control API on the same
 * port, under `/__control/` (no Infobip key; loopback only): read the truth per messageId, switch modes for a
 * while (an outage, slowness, a 429 storm), post delivery reports, reset. See `handleControl`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { randomUUID } from 'node:crypto'
import type { AddressInfo, Socket } from 'node:net'

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
  /**
   * An Infobip error body; `messageId` defaults by status (400 BAD_REQUEST, 401 UNAUTHORIZED, 429 TOO_MANY_REQUESTS,
   * 5xx GENERAL_ERROR). `refuseForMs`: after answering, refuse connections for that long (an outage getting worse).
   */
  | { kind: 'error', status: number, messageId?: string, text?: string, headers?: Record<string, string>, refuseForMs?: number }
  /** A gateway's error: the status with a non-Infobip (HTML) body, as a load balancer in front of Infobip would answer. */
  | { kind: 'gateway-error', status: number }
  /** Accept the request and never answer (until close()). */
  | { kind: 'hang' }
  /** Destroy the socket without a response: the client sees a reset. `accept`: Infobip took the messages first. */
  | { kind: 'reset', accept?: boolean }
  /** Accept the messages at receipt (they count, and show in the logs), answer 200 only after `ms`. */
  | { kind: 'slow', ms: number, status?: InfobipStatus }
  /** Wait, then behave as `then` (nothing is accepted before `then` runs). */
  | { kind: 'delay', ms: number, then: FakeBehaviour }

/** When an accepted message shows in GET /sms/1/logs: only `ms` after acceptance, and/or only after `lookups` look-ups that asked for it. */
export interface LogLag { ms?: number, lookups?: number }

export interface FakeInfobip {
  /** 'http://127.0.0.1:PORT' */
  url: string
  /** The key it accepts as `Authorization: App <apiKey>`. */
  apiKey: string
  /** Every request received, in order, including rejected ones. */
  requests: RecordedRequest[]
  /** Only POST /sms/2/text/advanced. */
  sendRequests: () => RecordedRequest[]
  /** Only GET /sms/1/logs. */
  logRequests: () => RecordedRequest[]
  /** Message logs of the sends it accepted, by messageId (GET /sms/1/logs?messageId=a,b). */
  logs: Map<string, LogEntry>
  /** How many times each messageId was accepted (an SMS each): "exactly once" is 1. */
  acceptances: ReadonlyMap<string, number>
  /** What the fake knows of every messageId it accepted: the truth a reliability check compares the service with. */
  truth: () => TruthEntry[]
  /** One-shot behaviours for the next send requests (FIFO); when none is queued the default applies. */
  enqueue: (...behaviours: FakeBehaviour[]) => void
  setDefault: (behaviour: FakeBehaviour) => void
  /** Infobip's idempotent message sending: a messageId accepted before is answered REJECTED_DUPLICATE_MESSAGE_ID and not accepted again. */
  setDuplicateIds: (enabled: boolean) => void
  /** Log lag for messages accepted from now on. */
  setLogLag: (lag: LogLag) => void
  /** The next `unavailable` send requests get 503 with Infobip's body; then connections are refused for `refusedMs`. */
  outage: (plan: { unavailable: number, refusedMs?: number }) => void
  /** Stops accepting connections (clients get ECONNREFUSED) for `ms`, or until `acceptConnections`. */
  refuseConnections: (ms?: number) => Promise<void>
  acceptConnections: () => Promise<void>
  /**
   * POSTs delivery reports for accepted messages to the notifyUrl each was sent with (grouped per URL, up to
   * 100 per POST as Infobip does), and updates their log entries. Returns the HTTP status of each POST.
   */
  deliverReports: (messageIds: string[], status?: DeliveryReportStatus) => Promise<number[]>
  /**
   * POSTs these reports in this order (a message may get several, in any order), in POSTs of up to `batchSize`
   * consecutive reports for one notifyUrl. A message's truth keeps the first final status reported to it: a
   * PENDING or DELIVERED_TO_OPERATOR report after it changes nothing. Returns the HTTP status of each POST.
   */
  postReports: (reports: Array<{ messageId: string, status: DeliveryReportStatus }>, batchSize?: number) => Promise<number[]>
  /**
   * Behaves as `behaviour` for every send request for `forMs`, then (after `thenRefuseMs` of refused connections,
   * when given) goes back to ok. A mode set while another runs replaces it.
   */
  setModeFor: (behaviour: FakeBehaviour, forMs: number, thenRefuseMs?: number) => void
  /** Clears requests, logs, acceptances, the queue and the modes; the default goes back to ok. */
  reset: () => void
  /** Stops the server; hanging and delayed requests are ended too. */
  close: () => Promise<void>
}

export interface FakeInfobipOptions {
  apiKey?: string
  /**
   * Keep requests, logs, acceptances and notifyUrls (default true). Benchmarks turn it off to keep memory flat;
   * duplicate-id enforcement and log look-ups then have nothing to go on.
   */
  record?: boolean
  duplicateIds?: boolean
  /** Serve the control API under `/__control/` on the same port (default false). */
  control?: boolean
}

/** One messageId as the fake saw it. */
export interface TruthEntry {
  messageId: string
  to: string
  text: string
  /** SMS it took for this id: 1 is exactly once. */
  acceptances: number
  /** When each acceptance arrived (epoch ms). */
  acceptedAt: number[]
  /** The status it last answered or reported (its first final status once one was reported). */
  status: InfobipStatus
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

/** Infobip's answer for a messageId it already took while idempotent sending is enabled (status group 5, id 23). */
export const REJECTED_DUPLICATE_MESSAGE_ID: InfobipStatus = Object.freeze({
  groupId: 5,
  groupName: 'REJECTED',
  id: 23,
  name: 'REJECTED_DUPLICATE_MESSAGE_ID',
  description: 'Message with this messageId was already sent'
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
interface SendMessage { destinations: Destination[], text?: unknown, from?: unknown, notifyUrl?: unknown }
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

/** The ids a logs request asks for: `messageId=a,b` and `messageId=a&messageId=b` alike. */
export function requestedIds (search: string): string[] {
  return new URLSearchParams(search).getAll('messageId').flatMap((value) => value.split(',')).map((id) => id.trim()).filter((id) => id !== '')
}

function parseQuery (search: string): Record<string, string> {
  const query: Record<string, string> = {}
  if (search === '') return query
  for (const [key, value] of new URLSearchParams(search)) query[key] = key in query ? `${query[key]},${value}` : value
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

interface Visibility { visibleAt: number, hiddenLookups: number }

const CONTROL_PREFIX = '/__control/'

/** Final in Infobip's terms: any status but PENDING and DELIVERED_TO_OPERATOR (the handset report is to come). */
function isFinalStatus (status: InfobipStatus): boolean {
  if (status.groupId === 1) return false
  return !(status.groupId === 3 && status.id === 2)
}

function destinationCount (body: unknown): number {
  const messages = (body as { messages?: Array<{ destinations?: unknown[] }> } | null)?.messages
  return Array.isArray(messages) ? messages.reduce((n, m) => n + (Array.isArray(m.destinations) ? m.destinations.length : 0), 0) : 0
}

export async function startFakeInfobip (options: FakeInfobipOptions = {}): Promise<FakeInfobip> {
  const apiKey = options.apiKey ?? `fake-key-${randomUUID()}`
  const expectedAuthorization = `App ${apiKey}`
  const record = options.record ?? true
  const requests: RecordedRequest[] = []
  let queue: FakeBehaviour[] = []
  let defaultBehaviour: FakeBehaviour = OK
  let duplicateIds = options.duplicateIds ?? false
  let logLag: Required<LogLag> = { ms: 0, lookups: 0 }
  const logs = new Map<string, LogEntry>()
  const visibility = new Map<string, Visibility>()
  const acceptances = new Map<string, number>()
  const acceptedAt = new Map<string, number[]>()
  const notifyUrls = new Map<string, string>()
  const control = options.control ?? false
  let modeTimer: NodeJS.Timeout | null = null
  const pending = new Set<ServerResponse>()
  const timers = new Set<NodeJS.Timeout>()
  const sockets = new Set<Socket>()
  let listening = false
  let port = 0
  let closing: Promise<void> | null = null

  function later (ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      timers.delete(timer)
      run()
    }, ms)
    timers.add(timer)
  }

  function sendError (res: ServerResponse, status: number, messageId?: string, text?: string, headers?: Record<string, string>): void {
    sendJson(res, status, errorBody(messageId ?? defaultMessageId(status), text), headers)
  }

  /**
   * Takes the messages of a send request: each destination is accepted (counted, logged) with `status`,
   * or, with duplicate ids enforced and its messageId accepted before, answered REJECTED_DUPLICATE_MESSAGE_ID.
   */
  function accept (body: SendBody, status: InfobipStatus): SuccessBody {
    const withCount = body.includeSmsCountInResponse === true
    const bulkId = typeof body.bulkId === 'string' && body.bulkId !== '' ? body.bulkId : randomUUID()
    const out: SuccessBody['messages'] = []
    const now = record ? infobipTimestamp() : ''
    const arrivedAt = Date.now()
    for (const message of body.messages) {
      const count = withCount ? smsCount(message.text) : 0
      for (const destination of message.destinations) {
        const messageId = typeof destination.messageId === 'string' && destination.messageId !== '' ? destination.messageId : randomUUID()
        const duplicate = duplicateIds && acceptances.has(messageId)
        const answered = duplicate ? REJECTED_DUPLICATE_MESSAGE_ID : status
        out.push(withCount ? { to: destination.to, messageId, status: answered, smsCount: count } : { to: destination.to, messageId, status: answered })
        if (!record || duplicate) continue
        acceptances.set(messageId, (acceptances.get(messageId) ?? 0) + 1)
        const arrivals = acceptedAt.get(messageId)
        if (arrivals === undefined) acceptedAt.set(messageId, [arrivedAt])
        else arrivals.push(arrivedAt)
        if (typeof message.notifyUrl === 'string') notifyUrls.set(messageId, message.notifyUrl)
        logs.set(messageId, {
          bulkId,
          messageId,
          to: String(destination.to),
          ...(typeof message.from === 'string' ? { from: message.from } : {}),
          text: typeof message.text === 'string' ? message.text : '',
          sentAt: now,
          doneAt: now,
          smsCount: 1,
          price: { pricePerMessage: 0.01, currency: 'EUR' },
          status: answered,
          error: { ...REPORT_ERRORS.NO_ERROR! }
        })
        if (logLag.ms > 0 || logLag.lookups > 0) visibility.set(messageId, { visibleAt: Date.now() + logLag.ms, hiddenLookups: logLag.lookups })
      }
    }
    return { bulkId, messages: out }
  }

  function hold (res: ServerResponse): void {
    pending.add(res)
    res.once('close', () => pending.delete(res))
  }

  function apply (behaviour: FakeBehaviour, req: IncomingMessage, res: ServerResponse, body: SendBody): void {
    switch (behaviour.kind) {
      case 'ok':
        sendJson(res, 200, accept(body, behaviour.status ?? PENDING_ACCEPTED))
        return
      case 'error': {
        const refuseForMs = behaviour.refuseForMs
        if (refuseForMs !== undefined) res.once('finish', () => { refuseConnections(refuseForMs).catch(() => undefined) })
        sendError(res, behaviour.status, behaviour.messageId, behaviour.text, behaviour.headers)
        return
      }
      case 'gateway-error': {
        const html = `<html><body><h1>${behaviour.status}</h1></body></html>`
        res.writeHead(behaviour.status, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(html) })
        res.end(html)
        return
      }
      case 'hang':
        hold(res)
        return
      case 'reset':
        if (behaviour.accept === true) accept(body, PENDING_ACCEPTED)
        req.socket.destroy()
        return
      case 'slow': {
        const answer = accept(body, behaviour.status ?? PENDING_ACCEPTED)
        hold(res)
        later(behaviour.ms, () => {
          pending.delete(res)
          sendJson(res, 200, answer)
        })
        return
      }
      case 'delay':
        hold(res)
        later(behaviour.ms, () => {
          pending.delete(res)
          if (!res.destroyed) apply(behaviour.then, req, res, body)
        })
    }
  }

  /** Whether a log entry may be shown now; a look-up that asks for a lagging entry counts against its lag. */
  function visible (messageId: string): boolean {
    const lag = visibility.get(messageId)
    if (lag === undefined) return true
    if (lag.hiddenLookups > 0) {
      lag.hiddenLookups--
      return false
    }
    if (Date.now() < lag.visibleAt) return false
    visibility.delete(messageId)
    return true
  }

  function handle (req: IncomingMessage, res: ServerResponse, raw: string): void {
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const path = q === -1 ? url : url.slice(0, q)
    const search = q === -1 ? '' : url.slice(q + 1)
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
    if (control && path.startsWith(CONTROL_PREFIX)) {
      handleControl(method, path.slice(CONTROL_PREFIX.length), search, invalidJson ? undefined : body, res)
      return
    }
    if (record) {
      requests.push({ method, path, query: parseQuery(search), headers: req.headers, body, receivedAt: Date.now() })
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
      const wanted = requestedIds(search)
      sendJson(res, 200, { results: wanted.flatMap((id) => logs.has(id) && visible(id) ? [logs.get(id)!] : []) })
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
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })

  async function listen (): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
    listening = true
    port = (server.address() as AddressInfo).port
  }

  /** Stops listening and drops every connection, so the next request is refused. */
  async function refuseConnections (ms?: number): Promise<void> {
    if (listening) {
      listening = false
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      for (const res of pending) res.destroy()
      pending.clear()
      for (const socket of sockets) socket.destroy()
      await closed
    }
    if (ms !== undefined) later(ms, () => { acceptConnections().catch(() => undefined) })
  }

  async function acceptConnections (): Promise<void> {
    if (!listening && closing === null) await listen()
  }

  async function deliverReports (messageIds: string[], status: DeliveryReportStatus = 'DELIVERED'): Promise<number[]> {
    return await postReports(messageIds.map((messageId) => ({ messageId, status })), 100, true)
  }

  async function postReports (list: Array<{ messageId: string, status: DeliveryReportStatus }>, batchSize = 100, grouped = false): Promise<number[]> {
    const posts: Array<{ notifyUrl: string, reports: DeliveryReportInput[] }> = []
    const byUrl = new Map<string, DeliveryReportInput[]>()
    for (const { messageId } of list) {
      if (!logs.has(messageId) || !notifyUrls.has(messageId)) throw new Error(`fake Infobip: no accepted message ${messageId} with a notifyUrl`)
    }
    for (const { messageId, status } of list) {
      const entry = logs.get(messageId)!
      const notifyUrl = notifyUrls.get(messageId)!
      // What Infobip knows of a message: its first final status stands, whatever arrives after it.
      if (!isFinalStatus(entry.status)) {
        entry.status = { ...REPORT_STATUSES[status] }
        entry.error = reportError(status, undefined)
        entry.doneAt = infobipTimestamp()
      }
      const report = { messageId, to: entry.to, bulkId: entry.bulkId, status, sentAt: entry.sentAt, doneAt: infobipTimestamp() }
      if (grouped) {
        // deliverReports: one run of POSTs per notifyUrl, as Infobip groups them.
        const group = byUrl.get(notifyUrl) ?? []
        if (group.length === 0) posts.push({ notifyUrl, reports: group })
        group.push(report)
        byUrl.set(notifyUrl, group)
        continue
      }
      const last = posts[posts.length - 1]
      if (last !== undefined && last.notifyUrl === notifyUrl && last.reports.length < batchSize) last.reports.push(report)
      else posts.push({ notifyUrl, reports: [report] })
    }
    const statuses: number[] = []
    for (const { notifyUrl, reports } of posts) {
      for (let i = 0; i < reports.length; i += batchSize) {
        const response = await fetch(notifyUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(deliveryReportBody(reports.slice(i, i + batchSize)))
        })
        await response.arrayBuffer()
        statuses.push(response.status)
      }
    }
    return statuses
  }

  function truth (): TruthEntry[] {
    const entries: TruthEntry[] = []
    for (const [messageId, count] of acceptances) {
      const entry = logs.get(messageId)
      if (entry === undefined) continue
      entries.push({ messageId, to: entry.to, text: entry.text, acceptances: count, acceptedAt: acceptedAt.get(messageId) ?? [], status: entry.status })
    }
    return entries
  }

  function setModeFor (behaviour: FakeBehaviour, forMs: number, thenRefuseMs?: number): void {
    if (modeTimer !== null) clearTimeout(modeTimer)
    defaultBehaviour = behaviour
    modeTimer = setTimeout(() => {
      modeTimer = null
      defaultBehaviour = OK
      if (thenRefuseMs !== undefined && thenRefuseMs > 0) refuseConnections(thenRefuseMs).catch(() => undefined)
    }, forMs)
  }

  function reset (): void {
    if (modeTimer !== null) clearTimeout(modeTimer)
    modeTimer = null
    requests.length = 0
    logs.clear()
    visibility.clear()
    acceptances.clear()
    acceptedAt.clear()
    notifyUrls.clear()
    queue = []
    defaultBehaviour = OK
    duplicateIds = options.duplicateIds ?? false
    logLag = { ms: 0, lookups: 0 }
  }

  /**
   * The control API (`control: true`), JSON in and out:
   * - GET  /__control/truth[?text=…] → `{ messages: TruthEntry[] }` (only messages whose text contains `text`);
   * - GET  /__control/requests → `{ sends: [{ receivedAt, destinations }], lookups: [{ receivedAt }] }`;
   * - POST /__control/mode `{ behaviour, forMs, thenRefuseMs? }` → setModeFor; `{ behaviour }` alone sets the default;
   * - POST /__control/enqueue `{ behaviours }`; POST /__control/log-lag `{ ms?, lookups? }`; POST /__control/duplicate-ids `{ enabled }`;
   * - POST /__control/reports `{ reports: [{ messageId, status }], batchSize? }` → `{ statuses }` (postReports);
   * - POST /__control/reset.
   * Anything else → 404; a body it cannot use → 400 `{ error }`.
   */
  function handleControl (method: string, path: string, search: string, body: unknown, res: ServerResponse): void {
    const input = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
    const done = (result: unknown = { ok: true }): void => sendJson(res, 200, result)
    const fail = (error: unknown): void => sendJson(res, 400, { error: error instanceof Error ? error.message : String(error) })
    const route = `${method} ${path}`
    switch (route) {
      case 'GET truth': {
        const text = new URLSearchParams(search).get('text')
        return done({ messages: text === null ? truth() : truth().filter((m) => m.text.includes(text)) })
      }
      case 'GET requests':
        return done({
          sends: requests.filter((r) => r.method === 'POST' && r.path === SEND_PATH).map((r) => ({ receivedAt: r.receivedAt, destinations: destinationCount(r.body) })),
          lookups: requests.filter((r) => r.method === 'GET' && r.path === LOGS_PATH).map((r) => ({ receivedAt: r.receivedAt }))
        })
      case 'POST mode': {
        const behaviour = input.behaviour as FakeBehaviour | undefined
        if (behaviour === undefined || typeof behaviour.kind !== 'string') return fail(new Error('behaviour is required'))
        if (typeof input.forMs === 'number') setModeFor(behaviour, input.forMs, typeof input.thenRefuseMs === 'number' ? input.thenRefuseMs : undefined)
        else defaultBehaviour = behaviour
        return done()
      }
      case 'POST enqueue':
        queue.push(...(Array.isArray(input.behaviours) ? input.behaviours as FakeBehaviour[] : []))
        return done()
      case 'POST log-lag':
        logLag = { ms: Number(input.ms ?? 0), lookups: Number(input.lookups ?? 0) }
        return done()
      case 'POST duplicate-ids':
        duplicateIds = input.enabled === true
        return done()
      case 'POST reports':
        postReports(Array.isArray(input.reports) ? input.reports as Array<{ messageId: string, status: DeliveryReportStatus }> : [],
          typeof input.batchSize === 'number' ? input.batchSize : 100)
          .then((statuses) => done({ statuses }), fail)
        return
      case 'POST reset':
        reset()
        return done()
      default:
        sendJson(res, 404, { error: `no control route ${route}` })
    }
  }

  await listen()

  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    requests,
    sendRequests: () => requests.filter((r) => r.method === 'POST' && r.path === SEND_PATH),
    logRequests: () => requests.filter((r) => r.method === 'GET' && r.path === LOGS_PATH),
    logs,
    acceptances,
    truth,
    enqueue: (...behaviours) => { queue.push(...behaviours) },
    setDefault: (behaviour) => { defaultBehaviour = behaviour },
    setDuplicateIds: (enabled) => { duplicateIds = enabled },
    setLogLag: (lag) => { logLag = { ms: lag.ms ?? 0, lookups: lag.lookups ?? 0 } },
    outage: ({ unavailable, refusedMs }) => {
      for (let i = 0; i < unavailable; i++) {
        const last = i === unavailable - 1 && refusedMs !== undefined
        queue.push(last ? { kind: 'error', status: 503, refuseForMs: refusedMs } : { kind: 'error', status: 503 })
      }
    },
    refuseConnections,
    acceptConnections,
    deliverReports,
    postReports: async (list, batchSize) => await postReports(list, batchSize),
    setModeFor,
    reset,
    close: async () => {
      if (closing !== null) return await closing
      closing = new Promise<void>((resolve) => {
        if (modeTimer !== null) clearTimeout(modeTimer)
        for (const timer of timers) clearTimeout(timer)
        timers.clear()
        for (const res of pending) res.destroy()
        pending.clear()
        if (!listening) {
          resolve()
          return
        }
        listening = false
        server.close(() => resolve())
        server.closeAllConnections()
      })
      return await closing
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Webhook bodies, as Infobip POSTs them to notifyUrl (delivery reports) and to the inbound URL.

export type DeliveryReportStatus = 'DELIVERED' | 'UNDELIVERABLE' | 'EXPIRED' | 'REJECTED' | 'PENDING' | 'DELIVERED_TO_OPERATOR' | 'REJECTED_DUPLICATE'

export const REPORT_STATUSES: Readonly<Record<DeliveryReportStatus, InfobipStatus>> = Object.freeze({
  DELIVERED: { groupId: 3, groupName: 'DELIVERED', id: 5, name: 'DELIVERED_TO_HANDSET', description: 'Message delivered to handset' },
  UNDELIVERABLE: { groupId: 2, groupName: 'UNDELIVERABLE', id: 9, name: 'UNDELIVERABLE_NOT_DELIVERED', description: 'Message sent not delivered' },
  EXPIRED: { groupId: 4, groupName: 'EXPIRED', id: 15, name: 'EXPIRED_EXPIRED', description: 'Message expired' },
  REJECTED: { groupId: 5, groupName: 'REJECTED', id: 6, name: 'REJECTED_NETWORK', description: 'Network is forbidden' },
  PENDING: { groupId: 1, groupName: 'PENDING', id: 7, name: 'PENDING_ENROUTE', description: 'Message sent to next instance' },
  DELIVERED_TO_OPERATOR: { groupId: 3, groupName: 'DELIVERED', id: 2, name: 'DELIVERED_TO_OPERATOR', description: 'Message delivered to operator' },
  REJECTED_DUPLICATE: REJECTED_DUPLICATE_MESSAGE_ID
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
        price: { pricePerMessage: r.price ?? (status.startsWith('REJECTED') ? 0 : 0.01), currency: 'EUR' },
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
