/**
 * Where is a recipient, as far as the phone number tells? Pure: no I/O.
 *
 * - +1 numbers: the area code (NPA) table in data/nanp-area-codes.ts gives
 *   country, state/province and every time zone the area code spans. This
 *   works from the digits alone; the number need not be valid (fictional
 *   555-01XX numbers resolve like any other).
 * - Other numbers (and +1 numbers whose area code is not in the table):
 *   the country comes from libphonenumber-js, falling back to the main
 *   country of the calling code when libphonenumber cannot pin the number to
 *   one country (invalid or unassigned ranges), and the zones from
 *   data/country-zones.ts.
 * - Unknown: { country: null, region: null, timeZones: [] }; callers then
 *   fall back to a configured default zone.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js'
import metadata from 'libphonenumber-js/metadata.min.json'
import { nanpAreaCode } from './data/nanp-area-codes.js'
import { zonesForCountry } from './data/country-zones.js'

export interface RecipientLocation {
  /** ISO 3166 alpha-2 country, e.g. 'US'; null when unknown. */
  country: string | null
  /** State / province / territory code (USPS / Canada Post), e.g. 'FL'; null when unknown or ambiguous. */
  region: string | null
  /** Every candidate IANA zone, most likely first; at least one whenever anything is known. */
  timeZones: string[]
}

const UNKNOWN: Readonly<RecipientLocation> = Object.freeze({ country: null, region: null, timeZones: [] })

function unknown (): RecipientLocation {
  return { ...UNKNOWN, timeZones: [] }
}

/**
 * Main country for a calling code ('44' → 'GB', '7' → 'RU'), from
 * libphonenumber's metadata, which lists the main country first. null for
 * non-geographic codes (+800, +881, …) and unknown codes.
 */
function mainCountryForCallingCode (callingCode: string): string | null {
  const countries = metadata.country_calling_codes[callingCode]
  const main = countries?.[0]
  return main !== undefined && /^[A-Z]{2}$/.test(main) ? main : null
}

function countryLocation (country: string | null): RecipientLocation {
  if (country === null) return unknown()
  return { country, region: null, timeZones: [...zonesForCountry(country)] }
}

export function locateNumber (e164: string): RecipientLocation {
  // Tolerate formatting characters; E.164 is '+' followed by up to 15 digits.
  const digits = e164.replace(/[\s().-]/g, '').replace(/^\+/, '')
  if (!/^\d{2,15}$/.test(digits)) return unknown()

  if (digits.startsWith('1') && digits.length === 11) {
    const entry = nanpAreaCode(digits.slice(1, 4))
    if (entry) {
      return {
        country: entry.country,
        region: entry.regions.length === 1 ? entry.regions[0] ?? null : null,
        timeZones: [...entry.timeZones]
      }
    }
    // Unknown area code: only trust libphonenumber when it pins a country;
    // do not guess 'US' for the whole +1 zone.
    const parsed = parsePhoneNumberFromString('+' + digits)
    return countryLocation(parsed?.country ?? null)
  }
  if (digits.startsWith('1')) return unknown()

  const parsed = parsePhoneNumberFromString('+' + digits)
  if (!parsed) return unknown()
  return countryLocation(parsed.country ?? mainCountryForCallingCode(parsed.countryCallingCode))
}
