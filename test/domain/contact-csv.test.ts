import { describe, expect, it } from 'vitest'
import { columnFor, detectDelimiter, mapHeader, readSepLine, type ImportColumn } from '../../src/domain/contact-csv.js'

describe('columnFor: header names as people and spreadsheets write them', () => {
  it.each<[string, ImportColumn | null]>([
    ['phoneNumber', 'phoneNumber'],
    ['Phone Number', 'phoneNumber'],
    ['phone_number', 'phoneNumber'],
    ['PHONE-NUMBER', 'phoneNumber'],
    ['phone', 'phoneNumber'],
    ['Mobile', 'phoneNumber'],
    ['Mobile Phone', 'phoneNumber'],
    ['Cell', 'phoneNumber'],
    ['MSISDN', 'phoneNumber'],
    ['  Phone  ', 'phoneNumber'],
    ['Ｐｈｏｎｅ', 'phoneNumber'],
    ['firstName', 'firstName'],
    ['firstname', 'firstName'],
    ['First Name', 'firstName'],
    ['first_name', 'firstName'],
    ['Given name', 'firstName'],
    ['Last Name', 'lastName'],
    ['Surname', 'lastName'],
    ['tags', 'tags'],
    ['Tag', 'tags'],
    ['Time Zone', 'timezone'],
    ['tz', 'timezone'],
    ['consentSource', 'consentSource'],
    ['Consent Source', 'consentSource'],
    ['consent_text', 'consentText'],
    ['consentAt', 'consentAt'],
    ['Consent Date', 'consentAt'],
    ['Opted In At', 'consentAt'],
    ['consentIp', 'consentIp'],
    ['Consent IP Address', 'consentIp'],
    ['consentUserAgent', 'consentUserAgent'],
    ['Consent User-Agent', 'consentUserAgent'],
    // Not contact fields: a CRM's "Source" is where a lead came from, not evidence of consent.
    ['email', null],
    ['Source', null],
    ['IP', null],
    ['notes', null],
    ['', null]
  ])('%j → %s', (name, expected) => {
    expect(columnFor(name)).toBe(expected)
  })
})

describe('mapHeader', () => {
  it('maps columns by position and lists the ignored ones', () => {
    expect(mapHeader(['Phone', 'email', 'First Name', '', 'Company'])).toEqual({
      columns: ['phoneNumber', null, 'firstName', null, null],
      unknown: [{ position: 2, name: 'email' }, { position: 5, name: 'Company' }],
      conflicts: []
    })
  })

  it('reports two columns naming the same field', () => {
    expect(mapHeader(['Phone', 'Mobile', 'name']).conflicts).toEqual([{ column: 'phoneNumber', positions: [1, 2] }])
  })
})

describe('detectDelimiter', () => {
  it.each([
    ['phoneNumber,firstName,lastName', ','],
    ['phoneNumber;firstName;lastName', ';'],
    ['phoneNumber\tfirstName\tlastName', '\t'],
    ['Phone;Name, full;Tags', ';'],
    ['"Phone, mobile";firstName', ';'],
    ['phone', ','],
    ['name;email', ';'],
    ['', ',']
  ])('%j → %j', (line, expected) => {
    expect(detectDelimiter(line)).toBe(expected)
  })
})

describe('readSepLine (Excel\'s delimiter hint)', () => {
  it.each<[string, string | null]>([
    ['sep=;', ';'],
    ['SEP=,', ','],
    ['"sep=;"', ';'],
    ['sep=\t', '\t'],
    ['phone;sep', null],
    ['sep=;;', null]
  ])('%j → %j', (line, expected) => {
    expect(readSepLine(line)).toBe(expected)
  })
})
