import { describe, expect, it } from 'vitest'
import { getCountries } from 'libphonenumber-js'
import { locateNumber } from '../../src/domain/recipient-location.js'
import { NANP_AREA_CODES, nanpAreaCode } from '../../src/domain/data/nanp-area-codes.js'
import { COUNTRY_ZONES, zonesForCountry } from '../../src/domain/data/country-zones.js'

function isValidZone (zone: string): boolean {
  try {
    // eslint-disable-next-line no-new
    new Intl.DateTimeFormat('en-US', { timeZone: zone })
    return true
  } catch {
    return false
  }
}

describe('locateNumber: +1 numbers by area code (fictional 555-01XX numbers work)', () => {
  it.each([
    ['+12125550123', 'US', 'NY', ['America/New_York']],
    ['+13055550123', 'US', 'FL', ['America/New_York']],
    ['+14055550123', 'US', 'OK', ['America/Chicago']],
    ['+14105550123', 'US', 'MD', ['America/New_York']],
    ['+12065550123', 'US', 'WA', ['America/Los_Angeles']],
    ['+12035550123', 'US', 'CT', ['America/New_York']],
    ['+15125550123', 'US', 'TX', ['America/Chicago']],
    ['+18505550123', 'US', 'FL', ['America/Chicago', 'America/New_York']],
    ['+14165550123', 'CA', 'ON', ['America/Toronto']]
  ])('%s → %s %s %j', (e164, country, region, timeZones) => {
    expect(locateNumber(e164)).toEqual({ country, region, timeZones })
  })

  it('lists every zone of straddling area codes', () => {
    expect(locateNumber('+12085550123')).toEqual({
      country: 'US', region: 'ID', timeZones: ['America/Boise', 'America/Los_Angeles']
    })
    expect(locateNumber('+19155550123').timeZones).toEqual(['America/Denver'])
    for (const npa of ['605', '620', '701', '270', '812', '423', '541', '308', '906', '907', '928']) {
      expect(nanpAreaCode(npa)?.timeZones.length, npa).toBeGreaterThan(1)
    }
    expect(nanpAreaCode('402')?.timeZones).toEqual(['America/Chicago'])
  })

  it('treats US territories as country US with the territory as region', () => {
    expect(locateNumber('+17875550123')).toEqual({ country: 'US', region: 'PR', timeZones: ['America/Puerto_Rico'] })
    expect(locateNumber('+16715550123')).toEqual({ country: 'US', region: 'GU', timeZones: ['Pacific/Guam'] })
    expect(locateNumber('+13405550123').region).toBe('VI')
    expect(locateNumber('+16845550123').region).toBe('AS')
    expect(locateNumber('+16705550123').region).toBe('MP')
  })

  it('maps Caribbean NANP countries to their own ISO code without region', () => {
    expect(locateNumber('+18765550123')).toEqual({ country: 'JM', region: null, timeZones: ['America/Jamaica'] })
    expect(locateNumber('+18095550123')).toEqual({ country: 'DO', region: null, timeZones: ['America/Santo_Domingo'] })
  })

  it('reports no region for area codes shared by several provinces', () => {
    expect(locateNumber('+19025550123')).toEqual({ country: 'CA', region: null, timeZones: ['America/Halifax'] })
    expect(locateNumber('+18675550123')).toEqual({
      country: 'CA',
      region: null,
      timeZones: ['America/Whitehorse', 'America/Edmonton', 'America/Rankin_Inlet', 'America/Iqaluit']
    })
  })

  it('tolerates formatting characters and a missing +', () => {
    const ny = { country: 'US', region: 'NY', timeZones: ['America/New_York'] }
    expect(locateNumber('+1 (212) 555-0123')).toEqual(ny)
    expect(locateNumber('12125550123')).toEqual(ny)
  })

  it('returns unknown for an unassigned area code', () => {
    expect(locateNumber('+19995550123')).toEqual({ country: null, region: null, timeZones: [] })
  })

  it('non-geographic +1 codes have no region (country only from libphonenumber)', () => {
    const tollFree = locateNumber('+18005550123')
    expect(tollFree.region).toBeNull()
    expect(tollFree.country).toBe('US')
  })

  it('returns unknown for garbage and wrong-length +1 numbers', () => {
    for (const input of ['', '+', 'abc', '+999123', '+120855501234', '+80012345678']) {
      expect(locateNumber(input), input).toEqual({ country: null, region: null, timeZones: [] })
    }
  })

  it('returns a fresh array each call (callers may mutate it)', () => {
    const a = locateNumber('+18505550123')
    a.timeZones.push('X')
    expect(locateNumber('+18505550123').timeZones).toEqual(['America/Chicago', 'America/New_York'])
  })
})

describe('locateNumber: other countries via libphonenumber + country zones', () => {
  it('+44 → GB, Europe/London (also for numbers libphonenumber deems invalid)', () => {
    const gb = { country: 'GB', region: null, timeZones: ['Europe/London'] }
    expect(locateNumber('+442079460123')).toEqual(gb)
    expect(locateNumber('+447700900123')).toEqual(gb) // Ofcom drama range
  })

  it('+61 → AU with all its main zones, Sydney first', () => {
    expect(locateNumber('+61255550123')).toEqual({
      country: 'AU',
      region: null,
      timeZones: ['Australia/Sydney', 'Australia/Brisbane', 'Australia/Perth', 'Australia/Adelaide', 'Australia/Darwin']
    })
  })

  it('single- and multi-zone countries', () => {
    expect(locateNumber('+33612345678')).toEqual({ country: 'FR', region: null, timeZones: ['Europe/Paris'] })
    const ru = locateNumber('+79161234567')
    expect(ru.country).toBe('RU')
    expect(ru.timeZones[0]).toBe('Europe/Moscow')
    expect(ru.timeZones).toContain('Asia/Vladivostok')
    expect(locateNumber('+5511987654321').timeZones[0]).toBe('America/Sao_Paulo')
    expect(locateNumber('+525512345678').timeZones).toEqual(
      ['America/Mexico_City', 'America/Tijuana', 'America/Mazatlan', 'America/Cancun']
    )
  })
})

describe('area code and country data', () => {
  it('has several hundred geographic area codes', () => {
    expect(NANP_AREA_CODES.size).toBeGreaterThan(400)
  })

  it('excludes non-geographic area codes', () => {
    for (const npa of ['800', '888', '877', '866', '855', '844', '833', '900', '500', '533', '544', '566', '577', '588', '600', '700', '710']) {
      expect(nanpAreaCode(npa), npa).toBeUndefined()
    }
  })

  it('covers every US state, DC, the territories and every Canadian province/territory', () => {
    const regions = new Set([...NANP_AREA_CODES.values()].flatMap((e) => e.regions))
    const expected = [
      'AL', 'AK', 'AZ', 'AR', 'CA', 'CO', 'CT', 'DE', 'DC', 'FL', 'GA', 'HI', 'ID', 'IL', 'IN', 'IA', 'KS', 'KY',
      'LA', 'ME', 'MD', 'MA', 'MI', 'MN', 'MS', 'MO', 'MT', 'NE', 'NV', 'NH', 'NJ', 'NM', 'NY', 'NC', 'ND', 'OH',
      'OK', 'OR', 'PA', 'RI', 'SC', 'SD', 'TN', 'TX', 'UT', 'VT', 'VA', 'WA', 'WV', 'WI', 'WY',
      'PR', 'VI', 'GU', 'AS', 'MP',
      'AB', 'BC', 'MB', 'NB', 'NL', 'NS', 'PE', 'ON', 'QC', 'SK', 'YT', 'NT', 'NU'
    ]
    expect(expected.filter((r) => !regions.has(r))).toEqual([])
  })

  it('uses only time zones the runtime knows, and never an empty zone list', () => {
    const zones = new Set<string>()
    for (const e of NANP_AREA_CODES.values()) {
      expect(e.timeZones.length, e.npa).toBeGreaterThan(0)
      e.timeZones.forEach((z) => zones.add(z))
    }
    for (const list of COUNTRY_ZONES.values()) list.forEach((z) => zones.add(z))
    expect([...zones].filter((z) => !isValidZone(z))).toEqual([])
  })

  it('has zones for every country libphonenumber can return', () => {
    expect(getCountries().filter((c) => zonesForCountry(c).length === 0)).toEqual([])
    expect(zonesForCountry('gb')).toEqual(['Europe/London'])
    expect(zonesForCountry(null)).toEqual([])
    expect(zonesForCountry('ZZ')).toEqual([])
  })
})
