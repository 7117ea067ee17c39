import { describe, expect, it } from 'vitest'
import { mustReadPhoneNumber, readPhoneNumber, type NumberUse, type PhoneReadResult } from '../../src/domain/phone.js'

const valid = (e164: string, country: string): PhoneReadResult => ({ ok: true, e164, country, basis: 'valid', note: null })
const areaCode = (e164: string, where: string): PhoneReadResult => ({
  ok: true,
  e164,
  country: 'US',
  basis: 'area_code',
  note: `area code ${e164.slice(2, 5)} (${where}) is in the NANP area-code table but not yet in the number library`
})
const ambiguous = (...candidates: Array<[string, string]>): PhoneReadResult => ({
  ok: false,
  code: 'AMBIGUOUS_PHONE_NUMBER',
  reason: `can be read as ${candidates.map(([n, c]) => `${n} (${c})`).join(' or ')}: write it with + and the country code`,
  candidates: candidates.map(([phoneNumber, country]) => ({ phoneNumber, country }))
})
const invalid = (reason: string | RegExp) => ({ ok: false, code: 'INVALID_PHONE_NUMBER', reason: typeof reason === 'string' ? reason : expect.stringMatching(reason) })

describe('readPhoneNumber: the contract rule, DEFAULT_COUNTRY=US unless given', () => {
  it.each<[string, string, PhoneReadResult | ReturnType<typeof invalid>]>([
    // national notation is read in the default country
    ['(323) 555-0123', 'US', valid('+13235550123', 'US')],
    ['323-555-0123', 'US', valid('+13235550123', 'US')],
    ['323 555 0123', 'US', valid('+13235550123', 'US')],
    ['323.555.0123', 'US', valid('+13235550123', 'US')],
    ['1 (323) 555-0123', 'US', valid('+13235550123', 'US')],
    ['1-323-555-0123', 'US', valid('+13235550123', 'US')],
    ['13235550123', 'US', valid('+13235550123', 'US')],
    ['07400 123456', 'GB', valid('+447400123456', 'GB')],
    ['020 7946 0018', 'GB', valid('+442079460018', 'GB')],
    ['0114 496 0000', 'GB', valid('+441144960000', 'GB')],
    ['06 12 34 56 78', 'FR', valid('+33612345678', 'FR')],
    ['030 123456', 'DE', valid('+4930123456', 'DE')],
    ['(0)30 123456', 'DE', valid('+4930123456', 'DE')],
    // bare digits valid both ways: refused, naming both, never guessed
    ['3235550123', 'US', ambiguous(['+13235550123', 'US'], ['+3235550123', 'BE'])],
    ['6625550123', 'US', ambiguous(['+16625550123', 'US'], ['+6625550123', 'TH'])],
    ['6075550123', 'US', ambiguous(['+16075550123', 'US'], ['+6075550123', 'MY'])],
    ['6595550123', 'US', ambiguous(['+16595550123', 'US'], ['+6595550123', 'SG'])],
    ['3215550123', 'US', ambiguous(['+13215550123', 'US'], ['+3215550123', 'BE'])],
    ['6265550123', 'US', ambiguous(['+16265550123', 'US'], ['+6265550123', 'ID'])],
    ['4365550123', 'US', ambiguous(['+14365550123', 'US'], ['+4365550123', 'AT'])],
    // bare digits valid one way only: that reading
    ['4345550123', 'US', valid('+14345550123', 'US')],
    ['4585550123', 'US', valid('+14585550123', 'US')],
    ['2125550101', 'US', valid('+12125550101', 'US')],
    ['447400123456', 'US', valid('+447400123456', 'GB')],
    ['33612345678', 'US', valid('+33612345678', 'FR')],
    // written the international way, without the +
    ['32 3 555 01 23', 'US', valid('+3235550123', 'BE')],
    ['44 7400 123456', 'US', valid('+447400123456', 'GB')],
    // + and international prefixes
    ['+3235550123', 'US', valid('+3235550123', 'BE')],
    ['+1 (212) 555-0101', 'US', valid('+12125550101', 'US')],
    ['+49 30 123456', 'US', valid('+4930123456', 'DE')],
    ['00447400123456', 'US', valid('+447400123456', 'GB')],
    ['00 44 7400 123456', 'FR', valid('+447400123456', 'GB')],
    ['011 44 7400 123456', 'US', valid('+447400123456', 'GB')],
    ['011447400123456', 'CA', valid('+447400123456', 'GB')],
    // new NANP overlays: in the project's area-code table before they reach the library
    ['+16245550123', 'US', areaCode('+16245550123', 'NY')],
    ['(624) 555-0123', 'US', areaCode('+16245550123', 'NY')],
    ['+14365550123', 'US', areaCode('+14365550123', 'OH')],
    ['+13575550123', 'US', areaCode('+13575550123', 'CA')],
    ['+18615550123', 'US', areaCode('+18615550123', 'IL')],
    // look-alike characters pasted from documents
    ['１２１２５５５０１０１', 'US', valid('+12125550101', 'US')],
    ['+1\u2011212\u2011555\u20110101', 'US', valid('+12125550101', 'US')],
    ['+1\u00A0212\u00A0555\u00A00101', 'US', valid('+12125550101', 'US')],
    // refused, saying why
    ['1-800-FLOWERS', 'US', invalid('contains letters ("FLOWERS"): write the number in digits, with + and the country code')],
    ['+1415555ABCD', 'US', invalid('contains letters ("ABCD"): write the number in digits, with + and the country code')],
    ['+1 212 555 0101 ext. 12', 'US', invalid('has an extension ("ext. 12"): a text message reaches the line itself; leave the extension out')],
    ['(212) 555-0101 x204', 'US', invalid('has an extension ("x204"): a text message reaches the line itself; leave the extension out')],
    ['212-555-0101#3', 'US', invalid('has an extension ("#3"): a text message reaches the line itself; leave the extension out')],
    ['72727', 'US', invalid(/^has only 5 digits: short codes/)],
    ['*123#', 'US', invalid('contains "*", which a phone number cannot hold: write digits, with + and the country code')],
    ['+1 212+555', 'US', invalid(/^contains "\+"/)],
    ['+12', 'US', invalid('has only 2 digits, too few for an international number')],
    ['+1234567890123456', 'US', invalid('has 16 digits; E.164 numbers have at most 15')],
    ['', 'US', invalid('is empty')],
    ['+1 000 000 0000', 'US', invalid('is not a valid phone number for its country')],
    ['(323) 555-0123', 'GB', invalid('is not a valid phone number in GB (DEFAULT_COUNTRY); write numbers of other countries with + and the country code')],
    ['020 7946 0018', 'US', invalid(/^is not a valid phone number read either way/)],
    ['+19995550123', 'US', invalid('is not a valid phone number for its country (+19995550123 has a possible length, which is enough for an opt-out but not for sending)')]
  ])('%j in %s', (input, defaultCountry, expected) => {
    expect(readPhoneNumber(input, { defaultCountry, use: 'recipient' })).toEqual(expected)
  })
})

describe('readPhoneNumber: how sure it must be depends on the use', () => {
  const possible = { ok: true, e164: '+19995550123', country: null, basis: 'possible', note: expect.stringContaining('possible length') }
  it.each<[string, NumberUse, unknown]>([
    ['+19995550123', 'opt_out', possible],
    ['+19995550123', 'lookup', possible],
    ['+19995550123', 'recipient', invalid(/enough for an opt-out but not for sending/)],
    // NANP format is a must even for an opt-out: no area code or exchange starts with 0 or 1
    ['+10000000000', 'opt_out', invalid('is not a valid phone number for its country')],
    ['+12120550101', 'opt_out', invalid('is not a valid phone number for its country')],
    ['+16245550123', 'opt_out', areaCode('+16245550123', 'NY')]
  ])('%j for %s', (input, use, expected) => {
    expect(readPhoneNumber(input, { defaultCountry: 'US', use })).toEqual(expected)
  })

  it('reads Infobip webhook numbers as international only', () => {
    const international = { defaultCountry: 'US', use: 'opt_out', notation: 'international' } as const
    expect(readPhoneNumber('3235550123', international)).toEqual(valid('+3235550123', 'BE'))
    expect(readPhoneNumber('16245550123', international)).toEqual(areaCode('+16245550123', 'NY'))
    expect(readPhoneNumber('InfoSMS', international)).toMatchObject({ ok: false, code: 'INVALID_PHONE_NUMBER' })
  })
})

describe('mustReadPhoneNumber', () => {
  it('throws 400 AMBIGUOUS_PHONE_NUMBER with both readings, naming the field', () => {
    expect(() => mustReadPhoneNumber('3235550123', 'destinationNumber', { defaultCountry: 'US', use: 'recipient' })).toThrow(expect.objectContaining({
      code: 'AMBIGUOUS_PHONE_NUMBER',
      statusCode: 400,
      message: 'destinationNumber "3235550123" can be read as +13235550123 (US) or +3235550123 (BE): write it with + and the country code',
      details: { candidates: [{ phoneNumber: '+13235550123', country: 'US' }, { phoneNumber: '+3235550123', country: 'BE' }] }
    }))
  })

  it('throws 400 INVALID_PHONE_NUMBER naming the field', () => {
    expect(() => mustReadPhoneNumber('12345', 'phoneNumber', { defaultCountry: 'US', use: 'opt_out' })).toThrow(expect.objectContaining({
      code: 'INVALID_PHONE_NUMBER', statusCode: 400, message: expect.stringMatching(/^phoneNumber has only 5 digits/)
    }))
  })
})

describe('readPhoneNumber: a number already in E.164 reads as the same number written any other way', () => {
  // E.164 input skips the clean-up and shape checks; the reading must be the one the full rule gives.
  it.each<[string, string, NumberUse]>([
    ['+12125550123', ' +1 (212) 555-0123 ', 'recipient'],
    ['+442079460018', '+44 20 7946 0018', 'recipient'],
    ['+16245550123', '+1 624 555 0123', 'recipient'],
    ['+12125550123', '+1\u00A0212\u2011555\u20110123', 'opt_out'],
    ['+19995550123', '+1 999 555 0123', 'opt_out'],
    ['+999123456789', '+999 123 456 789', 'lookup'],
    ['+1234567', '+1 234 567', 'recipient'],
    ['+123456789012345', '+1 234 567 890 123 45', 'lookup']
  ])('%s reads as %j does (%s)', (e164, written, use) => {
    expect(readPhoneNumber(e164, { defaultCountry: 'US', use })).toEqual(readPhoneNumber(written, { defaultCountry: 'US', use }))
  })

  it.each<[string, PhoneReadResult | ReturnType<typeof invalid>]>([
    ['+1234567890123456', invalid('has 16 digits; E.164 numbers have at most 15')],
    ['+123456', invalid('has only 6 digits, too few for an international number')],
    ['+0123456789', invalid(/./)],
    ['+12125550123 ', valid('+12125550123', 'US')]
  ])('%j is refused or read as the full rule says', (input, expected) => {
    expect(readPhoneNumber(input, { defaultCountry: 'US', use: 'recipient' })).toEqual(expected)
  })
})
