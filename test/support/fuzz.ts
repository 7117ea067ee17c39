/**
 * Hostile HTTP requests for the route fuzz test, derived from the app's own OpenAPI document: every
 * route it lists (including routes added later) gets bodies, query strings, path parameters and
 * headers built from its schemas — mostly almost valid, so requests reach the code behind
 * validation — mixed with values that break the rules in the ways clients and attackers do.
 */
import fc from 'fast-check'
import iconv from 'iconv-lite'
import { parsePhoneNumberFromString } from 'libphonenumber-js/max'

export interface JsonSchema {
  type?: string | string[]
  properties?: Record<string, JsonSchema>
  required?: string[]
  items?: JsonSchema
  anyOf?: JsonSchema[]
  oneOf?: JsonSchema[]
  allOf?: JsonSchema[]
  enum?: unknown[]
  const?: unknown
  format?: string
  pattern?: string
  minLength?: number
  maxLength?: number
  minimum?: number
  maximum?: number
  maxItems?: number
  additionalProperties?: boolean | JsonSchema
  $ref?: string
  description?: string
  examples?: unknown[]
}

/** A string that holds a phone number: by its name, its description, its examples or its pattern. */
function holdsPhoneNumber (schema: JsonSchema, name: string | undefined): boolean {
  if (name !== undefined && /phone|msisdn|destination|^(to|from)$/i.test(name)) return true
  if (/E\.164|phone number/i.test(schema.description ?? '')) return true
  if ((schema.examples ?? []).some((e) => typeof e === 'string' && /^\+\d{7,}/.test(e))) return true
  return schema.pattern?.includes('0-9') === true
}

export interface Operation {
  method: string
  /** OpenAPI path, `/contacts/{id}`. */
  path: string
  parameters: Array<{ name: string, in: 'path' | 'query' | 'header', required?: boolean, schema: JsonSchema }>
  /** Request body schemas by content type. */
  bodies: Record<string, JsonSchema>
  /** Open routes (security: []) need no API key. */
  open: boolean
}

interface OpenApi {
  paths: Record<string, Record<string, { parameters?: Operation['parameters'], requestBody?: { content: Record<string, { schema: JsonSchema }> }, security?: unknown[] }>>
  components?: { schemas?: Record<string, JsonSchema> }
}

/** Every operation of an OpenAPI document, with `$ref`s resolved. */
export function operationsOf (doc: OpenApi): Operation[] {
  const resolve = (schema: JsonSchema, depth = 0): JsonSchema => {
    if (depth > 20) return {}
    if (schema.$ref !== undefined) return resolve(doc.components?.schemas?.[schema.$ref.split('/').pop()!] ?? {}, depth + 1)
    const out: JsonSchema = { ...schema }
    if (schema.properties !== undefined) out.properties = Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, resolve(v, depth + 1)]))
    if (schema.items !== undefined) out.items = resolve(schema.items, depth + 1)
    for (const key of ['anyOf', 'oneOf', 'allOf'] as const) if (schema[key] !== undefined) out[key] = schema[key].map((s) => resolve(s, depth + 1))
    return out
  }
  const operations: Operation[] = []
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      operations.push({
        method: method.toUpperCase(),
        path,
        parameters: (operation.parameters ?? []).map((p) => ({ ...p, schema: resolve(p.schema) })),
        bodies: Object.fromEntries(Object.entries(operation.requestBody?.content ?? {}).map(([type, content]) => [type, resolve(content.schema)])),
        open: Array.isArray(operation.security) && operation.security.length === 0
      })
    }
  }
  return operations
}

/** Valid numbers of several countries: every one the fuzz uses is searched for in the logs afterwards. */
export const FUZZ_NUMBERS = ['+14155552671', '+12125550143', '+13105550188', '+442079460018', '+447700900123', '+4915123456789', '+33612345678', '+5511987654321', '+919876543210', '+61412345678']
/** National significant numbers: a log line holding any of these, however spaced or encoded, leaks a number. */
export const FUZZ_NATIONAL = FUZZ_NUMBERS.map((n) => parsePhoneNumberFromString(n)!.nationalNumber)
/** Secrets sent by mistake in query strings, headers and bodies: none may reach a log line. */
export const FUZZ_SECRETS = ['sk_live_FuzzSecret0123456789abcdef', 'ghp_FuzzTokenAbCdEf0123456789xyz', 'eyJhbGciOiJIUzI1NiJ9.ZnV6ei1zZWNyZXQ.c2lnbmF0dXJl']
const SECRET_PARAMS = ['access_token', 'token', 'x-api-key', 'api_key', 'apikey', 'key', 'password', 'secret', 'Authorization', 'client_secret', 'sig']

/** Percent-encodes any string, a lone surrogate included (sent as the bytes ED A0 80, which no decoder accepts). */
export function encodeAny (text: string): string {
  return text.split(/([\uD800-\uDFFF])/u).map((part, i) => i % 2 === 1 ? '%ED%A0%80' : encodeURIComponent(part)).join('')
}

/** A phone number written the ways people and programs write one in a URL. */
export const urlNumber = fc.tuple(fc.constantFrom(...FUZZ_NUMBERS), fc.nat(9)).map(([n, style]) => {
  const digits = n.slice(1)
  const groups = [digits.slice(0, digits.length - 10), digits.slice(-10, -7), digits.slice(-7, -4), digits.slice(-4)].filter((g) => g !== '')
  switch (style) {
    case 0: return n
    case 1: return encodeURIComponent(n)
    case 2: return '%2B' + groups.join('+')
    case 3: return '%2B' + groups.join('%20')
    case 4: return groups.join('.')
    case 5: return groups.map((g) => `[${g}]`).join('')
    case 6: return groups.join('-')
    case 7: return `(${groups[1] ?? ''})%20${groups.slice(2).join('-')}`
    case 8: return encodeURIComponent(encodeURIComponent(n))
    default: return digits
  }
})

const hostileString = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  {
    weight: 4,
    arbitrary: fc.constantFrom('', ' ', '\u0000', 'a\u0000b', '\ud800', 'a\udc00b', '\u001b[31m', '\u007f', '\u0085', '\ufeff', '\u2028', 'null', 'undefined', 'true', '0', '-1',
      'Infinity', '-Infinity', 'NaN', '1e400', '0x10', '__proto__', 'constructor', 'prototype', "' OR 1=1 --", '"; drop table contacts; --', '<script>alert(1)</script>',
      '../../etc/passwd', '%00', '%zz', '$' + '{jndi:ldap://x}', '{{7*7}}', 'STOP', 'stop all', 'START', 'HELP', 'ARRÊT', '😀'.repeat(50), 'é'.repeat(300),
      'America/New_York', 'Mars/Base', '2026-06-15T16:00:00Z', '2099-01-01T00:00:00Z', 'not-a-date', '2026-02-30T25:61:00Z')
  },
  { weight: 2, arbitrary: fc.constantFrom(...FUZZ_NUMBERS) },
  { weight: 1, arbitrary: fc.constantFrom(...FUZZ_SECRETS) },
  { weight: 1, arbitrary: fc.constantFrom(...[1, 33, 65, 161, 257, 1601, 4001, 5001].map((n) => 'A'.repeat(n))) }
)

const hostileNumber = fc.oneof(
  fc.constantFrom(0, -1, 1, 1.5, -0.5, 100, 101, 2 ** 31, -(2 ** 31) - 1, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, 1e308, -1e308, 5e-324),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true })
)

/** Any JSON value, nested, with hostile leaves. */
const hostileJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileString,
    hostileNumber,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(hostileString, fc.constantFrom('__proto__', 'constructor', 'results', 'phoneNumber', 'message')), tie('value'), { maxKeys: 4 })
  )
})).value

/**
 * A value for `schema`. Tame: one it allows, so the request reaches the code behind validation.
 * Wild: at every level, now and then, one it refuses.
 */
export function valueFor (schema: JsonSchema, context: { ids: string[] }, wild: boolean, depth = 0, name?: string): fc.Arbitrary<unknown> {
  const hostile = depth > 4 ? fc.constant(null) : hostileJson
  const maybeHostile = (valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> => wild ? fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: hostile }) : valid
  const choices = schema.anyOf ?? schema.oneOf
  if (choices !== undefined && choices.length > 0) return fc.oneof(...choices.map((s) => valueFor(s, context, wild, depth + 1, name)))
  if (schema.enum !== undefined) return maybeHostile(fc.constantFrom(...schema.enum))
  if (schema.const !== undefined) return maybeHostile(fc.constant(schema.const))
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type
  switch (type) {
    case 'object': {
      const properties = Object.entries(schema.properties ?? {})
      const required = new Set(schema.required ?? [])
      return maybeHostile(fc.tuple(
        ...properties.map(([key, property]) => fc.option(valueFor(property, context, wild, depth + 1, key), { freq: required.has(key) ? (wild ? 12 : 1000) : 2, nil: undefined })),
        wild ? fc.option(fc.tuple(fc.oneof(hostileString, fc.constantFrom('extra', '__proto__')), hostile), { freq: 8, nil: undefined }) : fc.constant(undefined)
      ).map((values) => {
        const object: Record<string, unknown> = {}
        properties.forEach(([key], i) => { if (values[i] !== undefined) object[key] = values[i] })
        const extra = values[properties.length] as [string, unknown] | undefined
        if (extra !== undefined) Object.defineProperty(object, extra[0], { value: extra[1], enumerable: true, writable: true, configurable: true })
        return object
      }))
    }
    case 'array':
      return maybeHostile(fc.array(valueFor(schema.items ?? {}, context, wild, depth + 1, name), { maxLength: Math.min(schema.maxItems ?? 5, 5) }))
    case 'string':
      return maybeHostile(stringFor(schema, context, wild, name))
    case 'integer':
      return maybeHostile(wild ? fc.oneof(fc.integer({ min: schema.minimum ?? -5, max: Math.min(schema.maximum ?? 1000, 1000) }), hostileNumber) : fc.integer({ min: schema.minimum ?? 0, max: Math.min(schema.maximum ?? 1000, 1000) }))
    case 'number':
      return maybeHostile(wild ? hostileNumber : fc.double({ min: 0, max: 1000, noNaN: true }))
    case 'boolean':
      return maybeHostile(fc.boolean())
    case 'null':
      return maybeHostile(fc.constant(null))
    default:
      return hostile
  }
}

function stringFor (schema: JsonSchema, context: { ids: string[] }, wild: boolean, name: string | undefined): fc.Arbitrary<string> {
  const anyString = wild ? [hostileString] : []
  // An id: one that exists (a message's id is also its Infobip messageId), or not.
  if (schema.format === 'uuid' || (name !== undefined && /Id$/.test(name))) return fc.oneof(fc.constantFrom(...context.ids), fc.uuid(), ...anyString)
  if (schema.format === 'date-time') return fc.oneof(fc.date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }).map((d) => d.toISOString()), ...anyString)
  if (holdsPhoneNumber(schema, name)) {
    // A phone number, written as people write them.
    return fc.oneof(
      fc.constantFrom(...FUZZ_NUMBERS),
      fc.constantFrom(...FUZZ_NUMBERS).map((n) => n.slice(1)),
      fc.constantFrom(...FUZZ_NUMBERS).map((n) => n.replace(/(\d{3})(\d{4})$/, ' $1-$2')),
      fc.stringMatching(/^\+?[0-9 ()-]{6,19}$/),
      ...anyString
    )
  }
  const min = schema.minLength ?? 0
  const max = Math.min(schema.maxLength ?? 60, 60)
  const tame = fc.oneof(
    fc.string({ minLength: min, maxLength: max }),
    fc.string({ unit: 'grapheme', minLength: min, maxLength: Math.max(min, Math.min(max, 20)) }),
    fc.constantFrom('STOP', 'Yes, text me offers. Reply STOP to cancel.', 'vip', 'America/Chicago', 'web_form', 'René', '😀 sale', 'Line 1\nLine 2').filter((v) => v.length >= min && v.length <= (schema.maxLength ?? 60))
  )
  return wild ? fc.oneof({ weight: 3, arbitrary: tame }, { weight: 1, arbitrary: fc.constant('x'.repeat((schema.maxLength ?? 60) + 1)) }, { weight: 2, arbitrary: hostileString }) : tame
}

/** Raw JSON-ish text: what a broken client or an attacker sends instead of a JSON document. */
const brokenJson = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.constantFrom('', '{', '{"a":', '[', 'null', '"str"', '123', 'true', '{"a":1,"a":2}', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}',
      '{"message":"\\ud800"}', '{"destinationNumber":1e999999,"message":"x"}', '{"results":[{"messageId":"x","status":{"groupId":1e400}}]}', '\uFEFF{}', '{"a":"\\u0000"}')
  },
  // Built once: deep nesting for the JSON parser, and (rarely) a body over BODY_LIMIT_BYTES.
  { weight: 3, arbitrary: fc.constantFrom('['.repeat(100) + ']'.repeat(100), '['.repeat(20_000) + ']'.repeat(20_000), '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000)) },
  { weight: 1, arbitrary: fc.constant(`{"message":"${'x'.repeat(1_100_000)}"}`) },
  { weight: 8, arbitrary: fc.string({ maxLength: 200 }) }
)

const csvValue = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...FUZZ_NUMBERS) },
  { weight: 3, arbitrary: hostileString.map((s) => s.slice(0, 80)) },
  { weight: 2, arbitrary: fc.constantFrom('"quoted, value"', '"unclosed', 'stray"quote', '"x"y', '""', '"multi\nline"', 'vip;news', '2026-06-01T00:00:00Z', 'web_form', 'America/Chicago', 'Yes, I agree', 'René', '') }
)

/** A CSV upload: a header as people name columns, rows with numbers, quotes, delimiters and broken bytes. */
const csvFile = fc.tuple(
  fc.option(fc.constantFrom('phoneNumber', 'Phone Number', 'mobile', 'Phone', '"phone"'), { freq: 6, nil: undefined }),
  fc.array(fc.constantFrom('firstName', 'First Name', 'lastName', 'tags', 'timezone', 'consentSource', 'consentText', 'consentAt', 'consentIp', 'consentUserAgent', 'email', 'sep=;', ''), { maxLength: 6 })
).map(([phone, rest]) => phone === undefined ? rest : [phone, ...rest]).chain((header) => fc.record({
  header: fc.constant(header),
  delimiter: fc.constantFrom(',', ';', '\t'),
  newline: fc.constantFrom('\n', '\r\n', '\r'),
  rows: fc.array(fc.oneof(
    { weight: 4, arbitrary: fc.array(csvValue, { minLength: header.length, maxLength: header.length }) },
    { weight: 1, arbitrary: fc.array(csvValue, { maxLength: 8 }) }
  ), { maxLength: 15 }),
  encoding: fc.constantFrom('utf-8', 'utf-8', 'utf-8-bom', 'utf-16le-bom', 'utf-16be-bom', 'windows-1252', 'broken'),
  trailing: fc.constantFrom('', '\n', '\n\n', ',,,\n')
})).map((file) => {
  const text = [file.header.join(file.delimiter), ...file.rows.map((row) => row.join(file.delimiter))].join(file.newline) + file.trailing
  switch (file.encoding) {
    case 'utf-8-bom': return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)])
    case 'utf-16le-bom': return Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode(text, 'utf-16le')])
    case 'utf-16be-bom': return Buffer.concat([Buffer.from([0xfe, 0xff]), iconv.encode(text, 'utf-16be')])
    case 'windows-1252': return iconv.encode(text, 'windows-1252')
    case 'broken': return Buffer.concat([Buffer.from(text), Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0x00, 0xed, 0xa0, 0x80])])
    default: return Buffer.from(text)
  }
})

const contentTypeFor = (declared: string): fc.Arbitrary<string | undefined> => fc.oneof(
  { weight: 20, arbitrary: fc.constant(declared) },
  { weight: 1, arbitrary: fc.constantFrom('application/json', 'text/csv', 'text/plain', 'application/json; charset=utf-16', 'application/json; charset=shift_jis', 'text/csv; charset=utf-16be', 'text/csv; charset="windows-1252"', 'text/csv; charset=nonsense', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=fuzz', 'application/octet-stream', 'application/xml', '*/*', 'application/json;;;', 'APPLICATION/JSON') },
  { weight: 1, arbitrary: fc.constant(undefined) }
)

export interface FuzzRequest {
  method: string
  url: string
  headers: Record<string, string>
  payload?: string | Buffer
  /** The operation, for the report of a failing request. */
  operation: string
}

interface Context { ids: string[], apiKey: string, webhookSecret: string }

/** One hostile request to `operation`. */
export function requestFor (operation: Operation, context: Context): fc.Arbitrary<FuzzRequest> {
  const pathParams = operation.parameters.filter((p) => p.in === 'path')
  const queryParams = operation.parameters.filter((p) => p.in === 'query')
  const headerParams = operation.parameters.filter((p) => p.in === 'header')
  const segment = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...context.ids) },
    { weight: 2, arbitrary: fc.uuid() },
    { weight: 2, arbitrary: urlNumber },
    { weight: 2, arbitrary: hostileString.map(encodeAny) },
    { weight: 1, arbitrary: fc.constantFrom('..', '%2F', '%2e%2e', 'x'.repeat(150), '%00', '%E0%A4%A') }
  )
  const queryValue = (param: Operation['parameters'][number]): fc.Arbitrary<string> => fc.oneof(
    { weight: 4, arbitrary: fc.oneof(valueFor(param.schema, context, false, 0, param.name), valueFor(param.schema, context, true, 0, param.name)).map((v) => encodeAny(typeof v === 'string' ? v : JSON.stringify(v) ?? '')) },
    { weight: 2, arbitrary: urlNumber },
    { weight: 2, arbitrary: fc.constantFrom('Infinity', '-Infinity', 'NaN', '1e400', '-1e400', '-0', '0x10', '1e2', '%201', '', '5.5', '100', '101', '0', '-1', '9007199254740993', 'true', 'false', '%00', '%zz', 'a%00b') },
    { weight: 1, arbitrary: fc.constantFrom(...FUZZ_SECRETS) }
  )
  // The webhook secret (?token=) is added below: most requests carry the right one, so they reach the handlers.
  const knownPairs = fc.tuple(...queryParams.filter((param) => param.name !== 'token').map((param) => fc.option(queryValue(param).map((value) => `${param.name}=${value}`), { freq: param.required === true ? 6 : 2, nil: undefined })))
  const extraPair = fc.oneof(
    fc.tuple(fc.constantFrom(...SECRET_PARAMS), fc.constantFrom(...FUZZ_SECRETS, context.apiKey, context.webhookSecret)).map(([name, value]) => `${name}=${encodeURIComponent(value)}`),
    fc.tuple(fc.constantFrom('to', 'phone', 'phoneNumber', 'msisdn', 'phone[]', 'filter[phone]', 'contact.phone', 'x', '%2B14155552671'), urlNumber).map(([name, value]) => `${name}=${value}`),
    fc.tuple(hostileString, hostileString).map(([name, value]) => `${encodeAny(name)}=${encodeAny(value)}`),
    fc.constantFrom('limit=1&limit=2', '__proto__[x]=1', 'constructor=1', 'a[b][c]=1', '&&&', '=', 'a=%', 'limit')
  )
  const query = fc.tuple(knownPairs, fc.array(extraPair, { maxLength: 3 })).map(([known, extra]) => {
    const pairs = [...known.filter((p): p is string => p !== undefined), ...extra]
    return pairs.length === 0 ? '' : `?${pairs.join('&')}`
  })
  const types = Object.keys(operation.bodies)
  // Arbitraries are built once per content type (building them inside chain() would rebuild the whole
  // schema's arbitrary for every request).
  const bodyFor = (type: string): fc.Arbitrary<{ payload: string | Buffer, type: string | undefined }> => {
    const schema = operation.bodies[type]!
    const payload: fc.Arbitrary<string | Buffer> = type.includes('json')
      ? fc.oneof(
        { weight: 6, arbitrary: valueFor(schema, context, false).map((v) => JSON.stringify(v) ?? 'null') },
        { weight: 5, arbitrary: valueFor(schema, context, true).map((v) => JSON.stringify(v) ?? 'null') },
        { weight: 1, arbitrary: brokenJson },
        { weight: 1, arbitrary: hostileJson.map((v) => JSON.stringify(v) ?? 'null') })
      : fc.oneof({ weight: 8, arbitrary: csvFile }, { weight: 1, arbitrary: brokenJson })
    return fc.tuple(payload, contentTypeFor(type)).map(([p, t]) => ({ payload: p, type: t }))
  }
  const body: fc.Arbitrary<{ payload?: string | Buffer, type?: string | undefined }> = types.length === 0
    ? fc.oneof({ weight: 4, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: fc.tuple(brokenJson, contentTypeFor('application/json')).map(([payload, type]) => ({ payload, type })) })
    : fc.oneof(...types.map(bodyFor))
  const headerValue = fc.oneof(
    fc.constantFrom(...FUZZ_NUMBERS, ...FUZZ_SECRETS, '', ' ', 'x'.repeat(300)),
    fc.uuid(),
    urlNumber,
    fc.string({ maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, ''))
  )
  const headers = fc.record({
    apiKey: fc.oneof({ weight: 18, arbitrary: fc.constant(context.apiKey) }, { weight: 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom('wrong-key', ...FUZZ_SECRETS, '') }),
    requestId: fc.option(fc.oneof(headerValue, fc.uuid(), fc.constantFrom('req-1', '1.415.555.2671', 'order-14155552671', '+14155552671')), { freq: 3 }),
    idempotencyKey: fc.option(headerValue, { freq: 4 }),
    authorization: fc.option(fc.oneof(
      fc.constantFrom(...FUZZ_SECRETS, context.webhookSecret).map((secret) => `Basic ${Buffer.from(`infobip:${secret}`).toString('base64')}`),
      fc.constantFrom(...FUZZ_SECRETS).map((secret) => `Bearer ${secret}`),
      fc.constantFrom('Basic', 'Basic !!!', 'Basic ' + Buffer.from('no-colon').toString('base64'))
    ), { freq: 6 }),
    extra: fc.array(fc.tuple(fc.constantFrom(...headerParams.map((p) => p.name), 'accept', 'accept-encoding', 'content-encoding', 'x-forwarded-for', 'x-api-key-2', 'cookie'), headerValue), { maxLength: 2 })
  })
  // Webhooks authenticate with ?token=: most requests carry the right one, so they reach the handlers.
  const token = operation.parameters.some((p) => p.in === 'query' && p.name === 'token')
    ? fc.oneof({ weight: 4, arbitrary: fc.constant(`token=${encodeURIComponent(context.webhookSecret)}`) }, { weight: 1, arbitrary: fc.constant('') })
    : fc.constant('')
  return fc.record({ segments: fc.array(segment, { minLength: pathParams.length, maxLength: pathParams.length }), query, body, headers, token }).map(({ segments, query, body, headers, token }) => {
    let url = operation.path
    pathParams.forEach((param, i) => { url = url.replace(`{${param.name}}`, segments[i]!) })
    if (token !== '') url += (query === '' ? '?' : query + '&') + token
    else url += query
    const out: Record<string, string> = {}
    for (const [name, value] of headers.extra) out[name] = value
    if (headers.apiKey !== undefined) out['x-api-key'] = headers.apiKey
    if (headers.requestId !== null) out['x-request-id'] = headers.requestId
    if (headers.idempotencyKey !== null) out['idempotency-key'] = headers.idempotencyKey
    if (headers.authorization !== null) out.authorization = headers.authorization
    if (body.type !== undefined) out['content-type'] = body.type
    return {
      method: operation.method,
      url,
      headers: out,
      ...(body.payload !== undefined ? { payload: body.payload } : {}),
      operation: `${operation.method} ${operation.path}`
    }
  })
}

/**
 * Phone numbers and secrets a log line holds, however they were written: every string in the JSON
 * line is percent-decoded (three times over, for double encoding) and its digits read across
 * separators (spaces, dots, dashes, brackets, plus signs).
 */
export function leaksIn (line: string, numbers: readonly string[], secrets: readonly string[]): string[] {
  const found = new Set<string>()
  const texts: string[] = [line]
  try {
    const walk = (value: unknown): void => {
      if (typeof value === 'string') texts.push(value)
      else if (Array.isArray(value)) value.forEach(walk)
      else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) { texts.push(k); walk(v) }
    }
    walk(JSON.parse(line))
  } catch {}
  for (const text of texts) {
    let decoded = text
    for (let i = 0; i < 3; i++) {
      try {
        decoded = decodeURIComponent(decoded.replace(/\+/g, ' '))
      } catch {
        break
      }
    }
    for (const variant of [text, decoded]) {
      for (const secret of secrets) if (variant.includes(secret)) found.add(`secret ${secret.slice(0, 6)}…`)
      for (const run of variant.match(/\d(?:[\s.\-()[\]/_+]{0,3}\d)*/g) ?? []) {
        const digits = run.replace(/\D/g, '')
        for (const number of numbers) if (digits.includes(number)) found.add(`number …${number.slice(-4)}`)
      }
    }
  }
  return [...found]
}
