import { isIP } from 'node:net'
import { fullFormats } from 'ajv-formats/dist/formats.js'
import type { ContactFields } from '../db/repositories/contacts.js'
import { isTimeZone } from '../domain/quiet-hours.js'
import { AppError } from '../errors.js'

/**
 * The checks a contact's fields and consent evidence pass, the same for POST /contacts, PATCH
 * /contacts/:id, a recorded consent and each row of an import (so an imported row can hold nothing
 * the API would refuse). Pure: no I/O, so an import's reader thread runs them too.
 */

/** 400 INVALID_TIME_ZONE unless `timezone` is an IANA time zone. */
export function checkFields (fields: ContactFields): void {
  if (fields.timezone !== undefined && fields.timezone !== null && !isTimeZone(fields.timezone)) {
    throw new AppError('INVALID_TIME_ZONE', `timezone ${fields.timezone} is not an IANA time zone (e.g. America/New_York)`)
  }
}

/** The last date-time an import read and what it reads as (a file's rows often repeat one): parsed in ms, and as ISO-8601. */
export interface LastInstant { value: string, parsed: number, iso: string }

/**
 * RFC 3339 date-time with its offset (`2026-06-01T12:00:00Z`, `2026-06-01T09:30:00+02:00`), checked as
 * the API's JSON schemas check `format: date-time` (ajv-formats, full mode): a day the month has, hours
 * 00–23. Date.parse alone would read `2026-02-30` as 2 March, and a time without an offset in the
 * server's own zone. From the formats module alone (the path ajv's standalone code loads it by): the
 * package's entry point loads all of Ajv, which the import's reader thread has no other use for.
 */
const dateTime = fullFormats['date-time'] as { validate: (value: string) => boolean }

/**
 * A date-time given in a request or file, as ISO-8601 (UTC); now when not given. `last`: a one-entry cache.
 * Throws 400 BAD_REQUEST when it is not an RFC 3339 date-time with its offset (see dateTime) or lies more
 * than 5 minutes after `now` (clock skew allowed).
 */
export function instant (value: string | undefined, now: Date, field: string, last?: LastInstant): string {
  if (value === undefined) return now.toISOString()
  const known = last !== undefined && last.value === value
  const parsed = known ? last.parsed : dateTime.validate(value) ? Date.parse(value) : Number.NaN
  if (Number.isNaN(parsed)) throw new AppError('BAD_REQUEST', `${field} is not a date-time with its time zone offset (ISO 8601, e.g. 2026-06-01T12:00:00Z or 2026-06-01T08:00:00-04:00)`)
  if (parsed > now.getTime() + 5 * 60 * 1000) throw new AppError('BAD_REQUEST', `${field} lies in the future`)
  if (known) return last.iso
  const iso = new Date(parsed).toISOString()
  if (last !== undefined) {
    last.value = value
    last.parsed = parsed
    last.iso = iso
  }
  return iso
}

/** The subscriber's evidence, as far as given: an IP address and a user agent of sane length (400 BAD_REQUEST otherwise). */
export function checkEvidence (ip: string | undefined, userAgent: string | undefined, names: { ip: string, userAgent: string }): void {
  if (ip !== undefined && (ip.length > 64 || isIP(ip) === 0)) throw new AppError('BAD_REQUEST', `${names.ip} is not an IP address`)
  if (userAgent !== undefined && userAgent.length > 1000) throw new AppError('BAD_REQUEST', `${names.userAgent} is longer than 1000 characters`)
}

/** The limits POST /contacts applies (characters); 400 BAD_REQUEST naming the column past them. */
export function checkLength (value: string | undefined, max: number, column: string): void {
  if (value !== undefined && value.length > max) throw new AppError('BAD_REQUEST', `${column} is longer than ${max} characters`)
}
