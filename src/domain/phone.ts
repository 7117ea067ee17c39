import { parsePhoneNumberFromString } from 'libphonenumber-js/max'

export type PhoneParseResult =
  | { ok: true, e164: string, country: string | null }
  | { ok: false, reason: string }

/**
 * Parses an international number (the leading + is optional) and accepts it only when it is a real,
 * assignable number for its country — a pattern match alone would accept +1 000 000 0000.
 */
export function parsePhone (input: string): PhoneParseResult {
  const trimmed = input.trim().replace(/[\s().-]/g, '')
  if (!/^\+?\d{6,15}$/.test(trimmed)) {
    return { ok: false, reason: 'must be an international number in E.164 form, e.g. +14155552671' }
  }
  const parsed = parsePhoneNumberFromString(trimmed.startsWith('+') ? trimmed : `+${trimmed}`)
  if (parsed === undefined || !parsed.isValid()) {
    return { ok: false, reason: 'is not a valid phone number for its country' }
  }
  return { ok: true, e164: parsed.number, country: parsed.country ?? null }
}
