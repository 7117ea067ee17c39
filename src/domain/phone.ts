/**
 * The one phone-number reader: every number the service accepts (sends, contacts, CSV imports,
 * opt-outs, inbound webhooks, query filters) goes through `readPhoneNumber`. Pure: no I/O.
 *
 * The rule (README "Phone numbers"; the public contract, "Sending"):
 * - `+` (or an international prefix, `00` or `011`) → the international reading.
 * - National notation (an area code in parentheses, `(323) 555-0123`, or digits grouped the way the
 *   default country writes its numbers, `323-555-0123`) → read in DEFAULT_COUNTRY.
 * - Bare digits → both readings are tried: national in DEFAULT_COUNTRY (`3235550123` → +1 323…) and
 *   international without the `+` (`3235550123` → +32 3…). The one valid reading is taken; when both
 *   are valid the number is refused as AMBIGUOUS_PHONE_NUMBER naming both — never guessed.
 * - Letters (`1-800-FLOWERS`), extensions (`ext. 12`), short codes and other characters are refused
 *   with an error that says which.
 *
 * Valid means valid for libphonenumber-js (Google's libphonenumber metadata). New North American
 * overlays reach phones before they reach that metadata (624, 436, 357, 861 in 2026), so a +1 number
 * whose area code is in the project's NANP table (src/domain/data/nanp-area-codes.ts, compiled from
 * NANPA's area-code assignments) counts as known too ('area_code'). Numbers that are merely *possible*
 * (the right length for their country code, NANP format for +1) are accepted only where refusing
 * them would do harm — opt-outs and inbound STOPs must never be dropped — and for lookups.
 */
import { isSupportedCountry, parsePhoneNumberFromString, type CountryCode, type PhoneNumber } from 'libphonenumber-js/max'
import { AppError } from '../errors.js'
import { nanpAreaCode } from './data/nanp-area-codes.js'

/**
 * What the number is for, which decides how sure the reader must be:
 * - 'recipient': a message will be sent to it (send, contact, import) → valid, or +1 in the NANP table;
 * - 'opt_out': an opt-out, suppression or inbound keyword → also any possible number;
 * - 'lookup': a query filter → also any possible number (it only finds what was stored).
 */
export type NumberUse = 'recipient' | 'opt_out' | 'lookup'

/** 'any': the whole rule above; 'international': the input is international without `+` (Infobip's webhooks). */
export type Notation = 'any' | 'international'

/** How sure the reading is: valid for libphonenumber, a +1 area code in the NANP table, or only possible. */
export type PhoneBasis = 'valid' | 'area_code' | 'possible'

export interface PhoneReading {
  /** E.164 with the leading +. */
  e164: string
  /** ISO 3166 alpha-2 country, null when the number does not pin one. */
  country: string | null
  basis: PhoneBasis
  /** Why a number that is not 'valid' was accepted, for the log line (holds no digits); null when valid. */
  note: string | null
}

export interface PhoneCandidate {
  phoneNumber: string
  country: string | null
}

export type PhoneReadResult =
  | ({ ok: true } & PhoneReading)
  | { ok: false, code: 'INVALID_PHONE_NUMBER', reason: string }
  | { ok: false, code: 'AMBIGUOUS_PHONE_NUMBER', reason: string, candidates: PhoneCandidate[] }

export interface ReadOptions {
  /** ISO 3166 alpha-2 used for national notation (DEFAULT_COUNTRY). */
  defaultCountry: string
  use: NumberUse
  notation?: Notation
}

/** E.164 allows at most 15 digits, country code included (ITU-T E.164 §6). */
const MAX_DIGITS = 15
/** Fewer digits than this is a short code or a fragment, never a full international number. */
const MIN_DIGITS = 7
/** NANP numbers are NXX-NXX-XXXX: area code and exchange never start with 0 or 1 (ATIS-0300115). */
const NANP_FORMAT = /^\+1[2-9]\d\d[2-9]\d{6}$/

/** `+`, a country code (never 0) and 7 to 15 digits in all, nothing else (ITU-T E.164). */
const E164_FORM = /^\+[1-9]\d{6,14}$/

const EXTENSION = /(?:[,;]\s*|\s*)(?:ext\.?|extn\.?|extension|x|#|;ext=)\s*\d{1,7}\s*$/i
const LETTERS = /\p{L}+/u
const ALLOWED = /^\+?[\d\s().\-/]+$/
/** Unicode dashes, spaces and the like that people paste from documents. */
const LOOKALIKES: ReadonlyArray<[RegExp, string]> = [[/[\u2010-\u2015\u2212]/g, '-'], [/[\u00A0\u2000-\u200B\u202F\u3000]/g, ' ']]

/** True for ISO 3166 alpha-2 codes the number library knows (the values DEFAULT_COUNTRY accepts). */
export function isPhoneCountry (country: string): boolean {
  return isSupportedCountry(country)
}

function clean (input: string): string {
  let text = input.normalize('NFKC').trim()
  for (const [pattern, replacement] of LOOKALIKES) text = text.replace(pattern, replacement)
  return text
}

function digitGroups (text: string): string[] {
  return text.match(/\d+/g) ?? []
}

function sameGroups (a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((group, i) => group === b[i])
}

interface Judged extends PhoneCandidate { basis: PhoneBasis, note: string | null }

/** The basis on which a parsed number can be accepted, or null when it cannot be even for an opt-out. */
function judge (parsed: PhoneNumber | undefined): Judged | null {
  if (parsed === undefined) return null
  const e164 = parsed.number
  const nanp = parsed.countryCallingCode === '1'
  if (parsed.isValid()) return { phoneNumber: e164, country: parsed.country ?? null, basis: 'valid', note: null }
  if (nanp && !NANP_FORMAT.test(e164)) return null
  if (nanp) {
    const entry = nanpAreaCode(e164.slice(2, 5))
    if (entry !== undefined) {
      const where = entry.regions.length > 0 ? entry.regions.join('/') : entry.country
      return { phoneNumber: e164, country: entry.country, basis: 'area_code', note: `area code ${entry.npa} (${where}) is in the NANP area-code table but not yet in the number library` }
    }
  }
  if (!parsed.isPossible()) return null
  return { phoneNumber: e164, country: parsed.country ?? null, basis: 'possible', note: 'the number has a possible length for its country code but the number library does not list it as assigned' }
}

function describe (c: PhoneCandidate): string {
  return c.country === null ? c.phoneNumber : `${c.phoneNumber} (${c.country})`
}

function invalid (reason: string): PhoneReadResult {
  return { ok: false, code: 'INVALID_PHONE_NUMBER', reason }
}

/** Refuses what no reading can turn into a number, with the reason; null when the text may be a number. */
function refuseShape (text: string): string | null {
  if (text === '') return 'is empty'
  const extension = EXTENSION.exec(text)
  if (extension !== null && digitGroups(text.slice(0, extension.index)).join('').length >= MIN_DIGITS) {
    return `has an extension ("${extension[0].trim()}"): a text message reaches the line itself; leave the extension out`
  }
  const letters = LETTERS.exec(text)
  if (letters !== null) return `contains letters ("${letters[0]}"): write the number in digits, with + and the country code`
  if (!ALLOWED.test(text) || text.lastIndexOf('+') > 0) {
    const odd = [...text.replace(/^\+/, '')].find((ch) => !/[\d\s().\-/]/.test(ch)) ?? '+'
    return `contains "${odd}", which a phone number cannot hold: write digits, with + and the country code`
  }
  return null
}

/**
 * Reads a phone number as the rule above says. Never throws; see `mustReadPhoneNumber` for the
 * throwing form services use.
 */
export function readPhoneNumber (input: string, options: ReadOptions): PhoneReadResult {
  // Already E.164 (what most files and API callers send): nothing for the clean-up and shape checks
  // to change or refuse, so straight to the number library's international reading.
  const e164 = E164_FORM.test(input)
  const text = e164 ? input : clean(input)
  const shape = e164 ? null : refuseShape(text)
  if (shape !== null) return invalid(shape)
  const digits = e164 ? input.slice(1) : text.replace(/\D/g, '')
  const explicit = e164 || text.startsWith('+')
  const prefix = explicit ? '' : digits.startsWith('011') ? '011' : digits.startsWith('00') ? '00' : ''
  const international = digits.slice(prefix.length)
  if (international.length > MAX_DIGITS) return invalid(`has ${international.length} digits; E.164 numbers have at most ${MAX_DIGITS}`)
  if (digits.length < MIN_DIGITS) {
    return invalid(explicit
      ? `has only ${digits.length} digits, too few for an international number`
      : `has only ${digits.length} digits: short codes and incomplete numbers cannot be used; write the full number with + and the country code`)
  }

  const country = options.defaultCountry as CountryCode
  const internationalReading = parsePhoneNumberFromString(`+${international}`)
  let readings: Array<{ parsed: PhoneNumber | undefined, how: 'national' | 'international' }>
  if (explicit || options.notation === 'international') {
    readings = [{ parsed: internationalReading, how: 'international' }]
  } else {
    const nationalReading = isSupportedCountry(country) ? parsePhoneNumberFromString(text, country) : undefined
    const groups = digitGroups(text)
    const looksNational = text.includes('(') ||
      (groups.length > 1 && nationalReading !== undefined && sameGroups(groups, digitGroups(nationalReading.formatNational())))
    const looksInternational = prefix === '' && groups.length > 1 && internationalReading !== undefined &&
      sameGroups(groups, digitGroups(internationalReading.formatInternational()))
    if (looksNational && !looksInternational) readings = [{ parsed: nationalReading, how: 'national' }]
    else if (looksInternational && !looksNational) readings = [{ parsed: internationalReading, how: 'international' }]
    else readings = [{ parsed: nationalReading, how: 'national' }, { parsed: internationalReading, how: 'international' }]
  }

  // One reading that the library finds valid (an E.164 input, most often): that is the answer.
  const verdicts = readings.map(({ parsed }) => judge(parsed))
  const only = verdicts.length === 1 ? verdicts[0] : null
  if (only !== null && only !== undefined && only.basis !== 'possible') return { ok: true, e164: only.phoneNumber, country: only.country, basis: only.basis, note: only.note }
  const judged = new Map<string, Judged>()
  for (const verdict of verdicts) {
    if (verdict !== null && !judged.has(verdict.phoneNumber)) judged.set(verdict.phoneNumber, verdict)
  }
  const known = [...judged.values()].filter((j) => j.basis !== 'possible')
  const possible = [...judged.values()].filter((j) => j.basis === 'possible')
  const pool = known.length > 0 ? known : options.use === 'recipient' ? [] : possible

  if (pool.length > 1) {
    const candidates = pool.map(({ phoneNumber, country: c }) => ({ phoneNumber, country: c }))
    return {
      ok: false,
      code: 'AMBIGUOUS_PHONE_NUMBER',
      reason: `can be read as ${candidates.map(describe).join(' or ')}: write it with + and the country code`,
      candidates
    }
  }
  const chosen = pool[0]
  if (chosen !== undefined) return { ok: true, e164: chosen.phoneNumber, country: chosen.country, basis: chosen.basis, note: chosen.note }

  if (readings.length === 1 && readings[0]?.how === 'national') {
    return invalid(`is not a valid phone number in ${options.defaultCountry} (DEFAULT_COUNTRY); write numbers of other countries with + and the country code`)
  }
  if (possible.length > 0) {
    return invalid(`is not a valid phone number for its country (${possible.map(describe).join(' or ')} has a possible length, which is enough for an opt-out but not for sending)`)
  }
  if (readings.length > 1) {
    return invalid(`is not a valid phone number read either way: nationally in ${options.defaultCountry} (DEFAULT_COUNTRY) or internationally; write it with + and the country code`)
  }
  return invalid('is not a valid phone number for its country')
}

/**
 * `readPhoneNumber` for services: the reading, or an AppError naming the field —
 * 400 INVALID_PHONE_NUMBER, or 400 AMBIGUOUS_PHONE_NUMBER with `candidates` (both readings) in the body.
 */
export function mustReadPhoneNumber (input: string, field: string, options: ReadOptions): PhoneReading {
  const result = readPhoneNumber(input, options)
  if (result.ok) return { e164: result.e164, country: result.country, basis: result.basis, note: result.note }
  if (result.code === 'AMBIGUOUS_PHONE_NUMBER') {
    throw new AppError('AMBIGUOUS_PHONE_NUMBER', `${field} "${input.trim()}" ${result.reason}`, { candidates: result.candidates })
  }
  throw new AppError('INVALID_PHONE_NUMBER', `${field} ${result.reason}`)
}
