import { describe, expect, it } from 'vitest'
import {
  analyzeSegments,
  GSM7_BASIC_CHARS,
  GSM7_EXTENSION_CHARS,
  isGsm7,
  SMART_REPLACEMENTS,
  smartEncode,
  smartEncodingReport,
  type SegmentInfo
} from '../../src/domain/segments.js'

const a = (n: number): string => 'a'.repeat(n)
const zh = (n: number): string => 'ж'.repeat(n) // Cyrillic: 1 UTF-16 unit, forces UCS-2

const FLAG_FR = '\u{1F1EB}\u{1F1F7}' // 🇫🇷 = 2 regional indicators = 4 units, 1 grapheme
const FAMILY = '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}' // 👨‍👩‍👧 = 2+1+2+1+2 = 8 units, 1 grapheme
const THUMBS_MEDIUM = '\u{1F44D}\u{1F3FD}' // 👍🏽 = 4 units, 1 grapheme
const GRIN = '\u{1F600}' // 😀 = 2 units
const MAN = '\u{1F468}' // 👨 = 2 units

type Row = [name: string, text: string, expected: Omit<SegmentInfo, 'nonGsmCharacters'>]

const gsm = (segments: number, characters: number, units: number, perSegment: number, remainingInSegment: number) =>
  ({ encoding: 'GSM-7' as const, segments, characters, units, perSegment, remainingInSegment })
const ucs = (segments: number, characters: number, units: number, perSegment: number, remainingInSegment: number) =>
  ({ encoding: 'UCS-2' as const, segments, characters, units, perSegment, remainingInSegment })

describe('analyzeSegments: GSM-7 boundaries', () => {
  const rows: Row[] = [
    ['empty string', '', gsm(0, 0, 0, 160, 160)],
    ['1 char', 'a', gsm(1, 1, 1, 160, 159)],
    ['160 chars = 1 segment', a(160), gsm(1, 160, 160, 160, 0)],
    // 161 > 160 -> 153 + 8
    ['161 chars = 2 segments', a(161), gsm(2, 161, 161, 153, 145)],
    ['306 chars (153x2) = 2 segments', a(306), gsm(2, 306, 306, 153, 0)],
    // 153 + 153 + 1
    ['307 chars (153x2+1) = 3 segments', a(307), gsm(3, 307, 307, 153, 152)],
    // 153 * 3 = 459; 460 -> 4th segment with 1 septet
    ['459 chars = 3 segments', a(459), gsm(3, 459, 459, 153, 0)],
    ['460 chars = 4 segments', a(460), gsm(4, 460, 460, 153, 152)],
    // 158 + 2 = 160 septets
    ['158 + € = 160 septets, 1 segment', a(158) + '€', gsm(1, 159, 160, 160, 0)],
    // 159 + 2 = 161 septets -> 153 | 6 + 2 = 8
    ['159 + € = 161 septets, 2 segments', a(159) + '€', gsm(2, 160, 161, 153, 145)],
    ['159 + { = 161 septets, 2 segments', a(159) + '{', gsm(2, 160, 161, 153, 145)],
    // 151 + 2 = 153 fills segment 1 exactly; then 10 -> rem 143; total 163
    ['escape pair at 152/153 fits segment 1', a(151) + '{' + a(10), gsm(2, 162, 163, 153, 143)],
    // 152 + 2 = 154 > 153 -> pair moves: seg1 = 152, seg2 = 2 + 10 = 12; total 164
    // (a naive split would leave 153 - 11 = 142)
    ['escape pair at 153/154 moves to segment 2', a(152) + '{' + a(10), gsm(2, 163, 164, 153, 141)],
    // 152 + 2 + 152 = 306 septets: naive 2 segments, but seg1 = 152, seg2 = 2 + 151 = 153, seg3 = 1
    ['moved escape pair adds a segment (306 septets -> 3)', a(152) + '€' + a(152), gsm(3, 305, 306, 153, 152)],
    // seg1 = 152, seg2 = 2 + 151 = 153 exactly
    ['moved escape pair fills segment 2 exactly', a(152) + '€' + a(151), gsm(2, 304, 305, 153, 0)],
    // every extension char costs 2: 10 chars -> 20 septets
    ['all extension chars incl. form feed', '^{}\\[~]|€\f', gsm(1, 10, 20, 160, 140)],
    ['form feed costs 2', 'a\fb', gsm(1, 3, 4, 160, 156)],
    // H i \n t h e r e \r \n b y e = 13 units; CR LF is one grapheme -> 12 characters
    ['\\n and \\r are GSM, CRLF is one character', 'Hi\nthere\r\nbye', gsm(1, 12, 13, 160, 147)],
    ['uppercase Ç is GSM', 'Ç', gsm(1, 1, 1, 160, 159)],
    ['Greek capitals and accented letters are GSM', 'ΔΦΓΛΩΠΨΣΘΞ éèùìòà ÄÖÑÜäöñü', gsm(1, 26, 26, 160, 134)]
  ]

  it.each(rows)('%s', (_name, text, expected) => {
    expect(analyzeSegments(text)).toEqual({ ...expected, nonGsmCharacters: [] })
  })
})

describe('analyzeSegments: UCS-2 boundaries', () => {
  const rows: Row[] = [
    ['single lowercase ç forces UCS-2', 'ç', ucs(1, 1, 1, 70, 69)],
    ['70 units = 1 segment', zh(70), ucs(1, 70, 70, 70, 0)],
    // 71 > 70 -> 67 + 4
    ['71 units = 2 segments', zh(71), ucs(2, 71, 71, 67, 63)],
    ['134 units (67x2) = 2 segments', zh(134), ucs(2, 134, 134, 67, 0)],
    ['135 units (67x2+1) = 3 segments', zh(135), ucs(3, 135, 135, 67, 66)],
    // 159 GSM + ç = 160 units UCS-2 -> 67 | 67 | 26
    ['159 GSM chars + ç -> whole message UCS-2', a(159) + 'ç', ucs(3, 160, 160, 67, 41)],
    // extension char costs 1 unit in UCS-2: 69 + 1 = 70
    ['€ costs 1 unit in UCS-2', zh(69) + '€', ucs(1, 70, 70, 70, 0)],
    ['emoji is 2 units, 1 character', GRIN, ucs(1, 1, 2, 70, 68)],
    // 68 + 2 = 70
    ['68 + emoji = 70 units, 1 segment', zh(68) + GRIN, ucs(1, 69, 70, 70, 0)],
    // 66 + 2 = 68 > 67 -> emoji moves: seg2 = 2 + 10 = 12 (naive: 78 - 67 = 11 -> 56)
    ['emoji at 67-unit boundary moves whole', zh(66) + GRIN + zh(10), ucs(2, 77, 78, 67, 55)],
    // 65 + 2 = 67 fits exactly: seg2 = 10
    ['emoji ending exactly at 67 stays', zh(65) + GRIN + zh(10), ucs(2, 76, 77, 67, 57)],
    // 134 units: naive 2 segments; seg1 = 66, seg2 = 2 + 65 = 67, seg3 = 1
    ['moved emoji adds a segment (134 units -> 3)', zh(66) + GRIN + zh(66), ucs(3, 133, 134, 67, 66)],
    // flag = 4 units: 65 + 4 = 69 > 67 -> moves: seg2 = 4 + 5 = 9 (code-point split would give 60)
    ['flag 🇫🇷 at boundary stays whole', zh(65) + FLAG_FR + zh(5), ucs(2, 71, 74, 67, 58)],
    // family = 8 units: 60 + 8 = 68 > 67 -> moves: seg2 = 8 + 5 = 13
    ['ZWJ family at boundary stays whole', zh(60) + FAMILY + zh(5), ucs(2, 66, 73, 67, 54)],
    // family fits exactly: 59 + 8 = 67, seg2 = 5
    ['ZWJ family ending exactly at 67 stays', zh(59) + FAMILY + zh(5), ucs(2, 65, 72, 67, 62)],
    // 64 + 4 = 68 > 67 -> moves: seg2 = 4 + 3 = 7
    ['emoji + skin tone at boundary stays whole', zh(64) + THUMBS_MEDIUM + zh(3), ucs(2, 68, 71, 67, 60)],
    // e + U+0301 = 2 units, 1 grapheme: 66 + 2 = 68 > 67 -> moves: seg2 = 2 + 5 = 7
    ['char + combining mark at boundary stays whole', zh(66) + 'e\u0301' + zh(5), ucs(2, 72, 73, 67, 60)],
    // ❤ + VS16 = 2 units, 1 grapheme: 66 + 2 = 68 > 67 -> moves: seg2 = 2 + 5 = 7
    ['char + variation selector at boundary stays whole', zh(66) + '\u2764\uFE0F' + zh(5), ucs(2, 72, 73, 67, 60)],
    // one 81-unit cluster (a + 80 marks) > 67 -> split at code points: 67 | 14
    ['oversized cluster splits at code points', 'a' + '\u0301'.repeat(80), ucs(2, 1, 81, 67, 53)],
    // 10 + 81 = 91: oversized cluster fills segment 1 (57 units) then 24 -> rem 43
    ['oversized cluster fills the current segment first', zh(10) + 'a' + '\u0301'.repeat(80), ucs(2, 11, 91, 67, 43)],
    // 👨(‍👨)x30 is one cluster of 2 + 30*3 = 92 units; cumulative 2 + 3k: k = 21 -> 65, ZWJ -> 66,
    // next 👨 (2) would reach 68 -> moves: seg1 = 66, seg2 = 92 - 66 = 26 (naive 25 -> 42)
    ['oversized ZWJ cluster never splits a surrogate pair', MAN + ('\u200D' + MAN).repeat(30), ucs(2, 1, 92, 67, 41)],
    // CR LF inside UCS-2 text is still one grapheme: ж \r\n ж = 4 units, 3 characters
    ['CRLF is one character in UCS-2 too', 'ж\r\nж', ucs(1, 3, 4, 70, 66)]
  ]

  it.each(rows)('%s', (_name, text, expected) => {
    const { nonGsmCharacters: _ignored, ...info } = analyzeSegments(text)
    expect(info).toEqual(expected)
  })
})

describe('analyzeSegments: nonGsmCharacters', () => {
  const rows: Array<[name: string, text: string, expected: string[]]> = [
    ['GSM-7 text has none', 'Hello {world} €5', []],
    ['single ç', 'ç', ['ç']],
    ['distinct, in order of first appearance', 'çáaçжáж😀👍🏽😀ç', ['ç', 'á', 'ж', '😀', '👍🏽']],
    ['GSM chars around are not listed', 'é ç É Ç ñ', ['ç']],
    ['whole grapheme is reported (decomposed é)', 'Cafe\u0301', ['e\u0301']],
    ['flag and family reported as one grapheme each', `${FLAG_FR}x${FAMILY}${FLAG_FR}`, [FLAG_FR, FAMILY]],
    ['ASCII backtick and tab are not GSM', 'a`b\tc`', ['`', '\t']],
    ['no-break space is not GSM', 'a\u00A0b', ['\u00A0']]
  ]

  it.each(rows)('%s', (_name, text, expected) => {
    expect(analyzeSegments(text).nonGsmCharacters).toEqual(expected)
  })
})

describe('isGsm7', () => {
  const rows: Array<[name: string, text: string, expected: boolean]> = [
    ['empty', '', true],
    ['plain ASCII letters', 'Hello world 123', true],
    ['whole basic table', GSM7_BASIC_CHARS, true],
    ['whole extension table', GSM7_EXTENSION_CHARS, true],
    ['euro', '€', true],
    ['braces', '{}', true],
    ['form feed', '\f', true],
    ['LF and CR', '\n\r', true],
    ['uppercase Ç', 'Ç', true],
    ['lowercase ç', 'ç', false],
    ['á (not in table)', 'á', false],
    ['backtick', '`', false],
    ['tab', '\t', false],
    ['ESC control char', '\u001B', false],
    ['NUL', '\u0000', false],
    ['no-break space', '\u00A0', false],
    ['curly quote', '’', false],
    ['emoji', GRIN, false],
    ['Cyrillic', 'ж', false],
    ['lone surrogate', '\uD83D', false]
  ]

  it.each(rows)('%s -> %s', (_name, text, expected) => {
    expect(isGsm7(text)).toBe(expected)
  })

  it('basic table has 127 distinct characters and the extension table 10', () => {
    expect(GSM7_BASIC_CHARS.length).toBe(127)
    expect(new Set(GSM7_BASIC_CHARS).size).toBe(127)
    expect(GSM7_EXTENSION_CHARS.length).toBe(10)
  })
})

describe('smartEncode', () => {
  const rows: Array<[name: string, input: string, expected: string]> = [
    ['GSM-7 text untouched', 'Hello {world}', 'Hello {world}'],
    ['curly quotes, em dash, ellipsis', '“Hi” — ‘there’…', '"Hi" - \'there\'...'],
    ['all single quotes', '‘’‚‛', "''''"],
    ['all double quotes', '“”„‟', '""""'],
    ['en dash, em dash, minus', 'a–b—c−d', 'a-b-c-d'],
    ['bullet', '• item', '- item'],
    ['no-break and Unicode spaces', 'a\u00A0b\u2000c\u2005d\u200Ae\u202Ff\u205Fg', 'a b c d e f g'],
    ['zero-width space removed', 'ab\u200Bc\u200B', 'abc'],
    ['backtick and tab', '`x`\ty', "'x' y"],
    ['decomposed é composed', 'Cafe\u0301', 'Café'],
    ['non-GSM letters kept, look-alikes replaced', 'Привет — мир', 'Привет - мир'],
    ['emoji kept', `Hi ${GRIN}…`, `Hi ${GRIN}...`],
    ['ç is not a look-alike', 'ça', 'ça']
  ]

  it.each(rows)('%s', (_name, input, expected) => {
    expect(smartEncode(input)).toBe(expected)
  })

  it('every replacement key is non-GSM, single code unit, and maps to GSM-7', () => {
    for (const [from, to] of SMART_REPLACEMENTS) {
      expect(from.length).toBe(1)
      expect(isGsm7(from)).toBe(false)
      expect(isGsm7(to)).toBe(true)
    }
  })
})

describe('smartEncodingReport', () => {
  type ReportRow = [
    name: string,
    input: string,
    expected: { text: string, applied: boolean, segmentsSaved: number, before: SegmentInfo, after: SegmentInfo }
  ]
  // “Hi” — ‘there’… = 15 units; → "Hi" - 'there'... = 17 septets
  const hi = '“Hi” — ‘there’…'
  const hiGsm = '"Hi" - \'there\'...'
  const hiNonGsm = ['“', '”', '—', '‘', '’', '…']

  const rows: ReportRow[] = [
    ['short typographic text becomes GSM-7 (same segments)', hi, {
      text: hiGsm,
      applied: true,
      segmentsSaved: 0,
      before: { ...ucs(1, 15, 15, 70, 55), nonGsmCharacters: hiNonGsm },
      after: { ...gsm(1, 17, 17, 160, 143), nonGsmCharacters: [] }
    }],
    // before: 15 + 1 + 100 = 116 units UCS-2 -> 67 | 49; after: 17 + 1 + 100 = 118 septets -> 1 segment
    ['typographic text + 100 chars saves 1 segment', `${hi} ${a(100)}`, {
      text: `${hiGsm} ${a(100)}`,
      applied: true,
      segmentsSaved: 1,
      before: { ...ucs(2, 116, 116, 67, 18), nonGsmCharacters: hiNonGsm },
      after: { ...gsm(1, 118, 118, 160, 42), nonGsmCharacters: [] }
    }],
    // before: 151 units UCS-2 -> 67 | 67 | 17; after: 153 septets -> 1 segment
    ['150 chars + ellipsis saves 2 segments', a(150) + '…', {
      text: a(150) + '...',
      applied: true,
      segmentsSaved: 2,
      before: { ...ucs(3, 151, 151, 67, 50), nonGsmCharacters: ['…'] },
      after: { ...gsm(1, 153, 153, 160, 7), nonGsmCharacters: [] }
    }],
    // stays UCS-2 but removing the ZWSP goes from 71 -> 70 units
    ['stays UCS-2 but saves a segment', zh(70) + '\u200B', {
      text: zh(70),
      applied: true,
      segmentsSaved: 1,
      before: { ...ucs(2, 71, 71, 67, 63), nonGsmCharacters: ['ж', '\u200B'] },
      after: { ...ucs(1, 70, 70, 70, 0), nonGsmCharacters: ['ж'] }
    }],
    ['GSM-7 text: nothing to apply', 'Hello', {
      text: 'Hello',
      applied: false,
      segmentsSaved: 0,
      before: { ...gsm(1, 5, 5, 160, 155), nonGsmCharacters: [] },
      after: { ...gsm(1, 5, 5, 160, 155), nonGsmCharacters: [] }
    }],
    // ж x68 + … = 69 units; "..." would make 71 units = 2 segments -> not applied
    ['replacement that would add a segment is not applied', zh(68) + '…', {
      text: zh(68) + '…',
      applied: false,
      segmentsSaved: 0,
      before: { ...ucs(1, 69, 69, 70, 1), nonGsmCharacters: ['ж', '…'] },
      after: { ...ucs(1, 69, 69, 70, 1), nonGsmCharacters: ['ж', '…'] }
    }],
    // П р и в е т _ — _ м и р = 12 units; stays UCS-2 with 1 segment -> no benefit
    ['stays UCS-2 with same segments: not applied', 'Привет — мир', {
      text: 'Привет — мир',
      applied: false,
      segmentsSaved: 0,
      before: { ...ucs(1, 12, 12, 70, 58), nonGsmCharacters: ['П', 'р', 'и', 'в', 'е', 'т', '—', 'м'] },
      after: { ...ucs(1, 12, 12, 70, 58), nonGsmCharacters: ['П', 'р', 'и', 'в', 'е', 'т', '—', 'м'] }
    }],
    ['no replacement possible', 'ça', {
      text: 'ça',
      applied: false,
      segmentsSaved: 0,
      before: { ...ucs(1, 2, 2, 70, 68), nonGsmCharacters: ['ç'] },
      after: { ...ucs(1, 2, 2, 70, 68), nonGsmCharacters: ['ç'] }
    }]
  ]

  it.each(rows)('%s', (_name, input, expected) => {
    expect(smartEncodingReport(input)).toEqual(expected)
  })
})

describe('analyzeSegments: UCS-2 fast grapheme path agrees with Intl.Segmenter', () => {
  // Reference: whole-text Intl.Segmenter + straightforward greedy packing of clusters.
  const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' })
  const reference = (text: string) => {
    const clusters = Array.from(segmenter.segment(text), (s) => s.segment)
    const nonGsm: string[] = []
    for (const cl of clusters) if (!isGsm7(cl) && !nonGsm.includes(cl)) nonGsm.push(cl)
    let segments = 1
    let used = 0
    for (const cl of clusters) {
      const pieces = cl.length <= 67 ? [cl] : Array.from(cl) // oversized: code points
      for (const p of pieces) {
        if (used + p.length > 67) { segments++; used = p.length } else used += p.length
      }
    }
    const single = text.length <= 70
    return {
      characters: clusters.length,
      nonGsmCharacters: nonGsm,
      segments: single ? 1 : segments,
      remainingInSegment: single ? 70 - text.length : 67 - used
    }
  }

  // Pieces chosen to exercise every UAX #29 rule the fast path relies on.
  const pieces = [
    'a', 'ж', ' ', '€', '{', '\r', '\n', '\r\n', '\t', '\u00A0', '\u0301', '\uFE0F', '\uFE0E', '\u200D', '\u200C',
    '\u200B', GRIN, '\u{1F44D}', '\u{1F3FD}', '\u{1F1EB}', '\u{1F1F7}', '\u2764', '\u2640', '\u00A9', '#', '\u20E3',
    'क', '\u094D', 'ष', '\u093F', '\u1100', '\u1161', '\u11A8', '가', '각', '\u0600', '\u0E33', '\uD83D', '\uDE00',
    '\u{20000}', '\u{1F3F4}', '\u{E0067}', '\u{E007F}', MAN, FAMILY, FLAG_FR, 'e\u0301', '\u2028', '\u2029', 'Ω', '\u200D\u200D'
  ]
  let seed = 12345
  const random = (max: number): number => { // mulberry32, deterministic
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * max)
  }
  const samples: string[] = []
  for (let s = 0; s < 1000; s++) {
    let text = 'ж' // force UCS-2
    const count = random(120)
    for (let k = 0; k < count; k++) text += pieces[random(pieces.length)]
    samples.push(text)
  }

  it('matches the reference on 1000 pseudo-random mixes', () => {
    for (const text of samples) {
      const { characters, nonGsmCharacters, segments, remainingInSegment } = analyzeSegments(text)
      expect({ characters, nonGsmCharacters, segments, remainingInSegment }, JSON.stringify(text)).toEqual(reference(text))
    }
  })
})
