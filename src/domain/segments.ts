/**
 * SMS segment calculation (GSM 03.38 / 3GPP TS 23.038) and "smart encoding".
 *
 * Pure module: no I/O, no dependencies. It runs on every send, so the hot paths
 * avoid per-character allocation:
 *  - a dense 64 KiB lookup table gives the septet cost of every UTF-16 code unit
 *    (0 = not representable in GSM-7, 1 = basic table, 2 = extension table);
 *  - pure GSM-7 text is analysed in one charCodeAt loop without Intl.Segmenter
 *    (no GSM-7 character can join a grapheme cluster except CR+LF, which is
 *    counted directly);
 *  - UCS-2 text uses Intl.Segmenter (one shared instance) only on the short
 *    regions that contain code units able to join a cluster (marks, ZWJ,
 *    surrogates, ...); everything else is one grapheme per code unit.
 *
 * Segmentation rules:
 *  - one character outside the GSM-7 basic + extension tables makes the whole
 *    message UCS-2;
 *  - a single message holds 160 septets (GSM-7) or 70 UTF-16 units (UCS-2); a
 *    concatenated message holds 153 septets / 67 units per segment (the rest of
 *    each PDU is the UDH);
 *  - GSM-7 extension characters cost 2 septets (ESC + char) and the pair is never
 *    split across segments;
 *  - in UCS-2 a grapheme cluster (and therefore a surrogate pair) is never split
 *    across segments; a cluster longer than a whole segment is split at
 *    code-point boundaries (a surrogate pair still stays whole), filling the
 *    current segment first.
 */

export type Encoding = 'GSM-7' | 'UCS-2'

export interface SegmentInfo {
  encoding: Encoding
  /** 0 for the empty string. */
  segments: number
  /** User-perceived characters (grapheme clusters) of the text. */
  characters: number
  /** Septets (GSM-7) or UTF-16 code units (UCS-2) the text costs. */
  units: number
  /** Capacity per segment for this message: 160/70 when it fits one segment, else 153/67. */
  perSegment: number
  /** Units still free in the last segment (perSegment minus what the last segment uses). */
  remainingInSegment: number
  /** Distinct graphemes that forced UCS-2, in order of first appearance; [] for GSM-7. */
  nonGsmCharacters: string[]
}

export interface SmartEncodingReport {
  /** The text to send: the smart-encoded text when `applied`, else the original text. */
  text: string
  /** True when the replacements changed the text and were worth it (see smartEncodingReport). */
  applied: boolean
  /** Analysis of the original text. */
  before: SegmentInfo
  /** Analysis of `text` (identical to `before` when not applied). */
  after: SegmentInfo
  /** before.segments - after.segments (0 when not applied). */
  segmentsSaved: number
}

export const GSM7_SINGLE_SEGMENT = 160
export const GSM7_MULTI_SEGMENT = 153
export const UCS2_SINGLE_SEGMENT = 70
export const UCS2_MULTI_SEGMENT = 67

/** GSM 03.38 basic character table (ESC 0x1B excluded: it is not a user character). */
export const GSM7_BASIC_CHARS =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà'

/** GSM 03.38 extension table: each costs 2 septets (ESC + char). */
export const GSM7_EXTENSION_CHARS = '\f^{}\\[~]|€'

/** Septet cost per UTF-16 code unit: 0 = not GSM-7, 1 = basic, 2 = extension. */
const GSM_COST = new Uint8Array(0x10000)
for (let i = 0; i < GSM7_BASIC_CHARS.length; i++) GSM_COST[GSM7_BASIC_CHARS.charCodeAt(i)] = 1
for (let i = 0; i < GSM7_EXTENSION_CHARS.length; i++) GSM_COST[GSM7_EXTENSION_CHARS.charCodeAt(i)] = 2

const CR = 0x0d
const LF = 0x0a

/**
 * Smart-encoding table: typographic look-alikes -> GSM-7 replacements.
 * Every key is outside GSM-7 and every value is pure GSM-7 (checked by the tests),
 * so already-GSM-7 text is never modified. All keys are single BMP code units.
 * Deliberately NOT included: letters with diacritics missing from GSM-7 (ç, á, ...)
 * since that is transliteration, not a look-alike; ZWJ/ZWNJ (they are meaningful
 * in emoji sequences and scripts); middle dot · (Catalan l·l).
 */
export const SMART_REPLACEMENTS: ReadonlyMap<string, string> = new Map<string, string>([
  // single quotes / apostrophes / primes
  ['\u2018', "'"], // ‘ left single quotation mark
  ['\u2019', "'"], // ’ right single quotation mark
  ['\u201A', "'"], // ‚ single low-9 quotation mark
  ['\u201B', "'"], // ‛ single high-reversed-9 quotation mark
  ['\u2032', "'"], // ′ prime
  ['\u02BC', "'"], // ʼ modifier letter apostrophe
  ['\u00B4', "'"], // ´ acute accent
  ['\u0060', "'"], // ` grave accent (ASCII but not GSM-7)
  ['\u2039', "'"], // ‹ single left-pointing angle quotation mark
  ['\u203A', "'"], // › single right-pointing angle quotation mark
  // double quotes
  ['\u201C', '"'], // “ left double quotation mark
  ['\u201D', '"'], // ” right double quotation mark
  ['\u201E', '"'], // „ double low-9 quotation mark
  ['\u201F', '"'], // ‟ double high-reversed-9 quotation mark
  ['\u2033', '"'], // ″ double prime
  ['\u00AB', '"'], // « left-pointing double angle quotation mark
  ['\u00BB', '"'], // » right-pointing double angle quotation mark
  // dashes, hyphens, minus, bullets
  ['\u2010', '-'], // ‐ hyphen
  ['\u2011', '-'], // ‑ non-breaking hyphen
  ['\u2012', '-'], // ‒ figure dash
  ['\u2013', '-'], // – en dash
  ['\u2014', '-'], // — em dash
  ['\u2015', '-'], // ― horizontal bar
  ['\u2212', '-'], // − minus sign
  ['\u2022', '-'], // • bullet
  ['\u2023', '-'], // ‣ triangular bullet
  ['\u2043', '-'], // ⁃ hyphen bullet
  ['\u2219', '-'], // ∙ bullet operator
  // ellipsis
  ['\u2026', '...'], // … horizontal ellipsis
  // spaces
  ['\u0009', ' '], // tab (not GSM-7)
  ['\u00A0', ' '], // no-break space
  ['\u2000', ' '], // en quad
  ['\u2001', ' '], // em quad
  ['\u2002', ' '], // en space
  ['\u2003', ' '], // em space
  ['\u2004', ' '], // three-per-em space
  ['\u2005', ' '], // four-per-em space
  ['\u2006', ' '], // six-per-em space
  ['\u2007', ' '], // figure space
  ['\u2008', ' '], // punctuation space
  ['\u2009', ' '], // thin space
  ['\u200A', ' '], // hair space
  ['\u202F', ' '], // narrow no-break space
  ['\u205F', ' '], // medium mathematical space
  ['\u3000', ' '], // ideographic space
  // line breaks
  ['\u2028', '\n'], // line separator
  ['\u2029', '\n'], // paragraph separator
  // invisible characters: removed
  ['\u200B', ''], // zero-width space
  ['\u2060', ''], // word joiner
  ['\uFEFF', ''], // zero-width no-break space / BOM
  ['\u00AD', ''] // soft hyphen
])

const REPLACEMENT_BY_CODE = new Map<number, string>()
for (const [from, to] of SMART_REPLACEMENTS) REPLACEMENT_BY_CODE.set(from.charCodeAt(0), to)

const MARK = /\p{M}/u
const BASE_WITH_MARKS = /\P{M}\p{M}+/gu

let segmenter: Intl.Segmenter | undefined
function graphemeSegmenter (): Intl.Segmenter {
  segmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' })
  return segmenter
}

/** True when every character of `text` is in the GSM-7 basic or extension table. */
export function isGsm7 (text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (GSM_COST[text.charCodeAt(i)] === 0) return false
  }
  return true
}

/** Encoding, segment count and capacity of an SMS body. */
export function analyzeSegments (text: string): SegmentInfo {
  if (text.length === 0) {
    return {
      encoding: 'GSM-7',
      segments: 0,
      characters: 0,
      units: 0,
      perSegment: GSM7_SINGLE_SEGMENT,
      remainingInSegment: GSM7_SINGLE_SEGMENT,
      nonGsmCharacters: []
    }
  }

  // GSM-7 pass: one loop, no allocation; bails out to UCS-2 on the first non-GSM unit.
  let units = 0
  let segments = 1
  let used = 0 // septets in the current 153-septet segment
  let crlf = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    const cost = GSM_COST[code] as number
    if (cost === 0) return analyzeUcs2(text)
    units += cost
    if (used + cost > GSM7_MULTI_SEGMENT) { // an escape pair never straddles two segments
      segments++
      used = cost
    } else {
      used += cost
    }
    if (code === LF && i > 0 && text.charCodeAt(i - 1) === CR) crlf++
  }
  // GSM-7 characters never combine into clusters, except CR LF (one grapheme).
  const characters = text.length - crlf
  if (units <= GSM7_SINGLE_SEGMENT) {
    return {
      encoding: 'GSM-7',
      segments: 1,
      characters,
      units,
      perSegment: GSM7_SINGLE_SEGMENT,
      remainingInSegment: GSM7_SINGLE_SEGMENT - units,
      nonGsmCharacters: []
    }
  }
  return {
    encoding: 'GSM-7',
    segments,
    characters,
    units,
    perSegment: GSM7_MULTI_SEGMENT,
    remainingInSegment: GSM7_MULTI_SEGMENT - used,
    nonGsmCharacters: []
  }
}

function isHighSurrogate (code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff
}

function isLowSurrogate (code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff
}

/** Grapheme class bit: the code unit may join a neighbour into a multi-unit cluster. */
const JOINS = 1
/** Grapheme class bit: Extended_Pictographic (may follow a ZWJ inside an emoji sequence). */
const PICT = 2

/**
 * JOINS is a conservative superset of the UAX #29 classes that take part in a
 * "no break" rule: marks (Extend, SpacingMark, Indic linkers, variation
 * selectors), format characters (ZWJ, ZWNJ, Prepend Cf) and other default-ignorable
 * code points (some unassigned ones are GCB=Control), surrogates (emoji,
 * regional indicators, skin-tone modifiers, tags), Hangul jamo, and the few
 * non-mark Extend / SpacingMark / Prepend code points of the BMP. Precomposed
 * Hangul syllables are not listed: they only join a following jamo, which is.
 * Between two code units that are both outside this set (and not CR LF) UAX #29
 * always breaks (GB999), so such text is segmented without Intl.Segmenter.
 */
const JOINING_RE = /[\p{M}\p{Cf}\p{Cs}\p{Default_Ignorable_Code_Point}\u0D4E\u0E33\u0EB3\uFF9E\uFF9F\u1100-\u11FF\uA960-\uA97F\uD7B0-\uD7FF]/u
const PICT_RE = /\p{Extended_Pictographic}/u
const ASTRAL_PICT_START = 0x1f000
const ASTRAL_PICT_END = 0x1ffff

let bmpClasses: Uint8Array | undefined // JOINS | PICT bits per BMP code unit
let astralPict: Uint8Array | undefined // 1 = Extended_Pictographic, for U+1F000..U+1FFFF

/** Built lazily on the first UCS-2 analysis (about 70k regex tests, a few ms). */
function graphemeClasses (): Uint8Array {
  if (bmpClasses === undefined) {
    const table = new Uint8Array(0x10000)
    for (let code = 0; code < 0x10000; code++) {
      const ch = String.fromCharCode(code)
      if (JOINING_RE.test(ch)) table[code] = JOINS
      if (PICT_RE.test(ch)) table[code] = (table[code] as number) | PICT
    }
    const astral = new Uint8Array(ASTRAL_PICT_END - ASTRAL_PICT_START + 1)
    for (let cp = ASTRAL_PICT_START; cp <= ASTRAL_PICT_END; cp++) {
      if (PICT_RE.test(String.fromCodePoint(cp))) astral[cp - ASTRAL_PICT_START] = 1
    }
    astralPict = astral
    bmpClasses = table
  }
  return bmpClasses
}

function joins (classes: Uint8Array, code: number): boolean {
  return ((classes[code] as number) & JOINS) !== 0
}

function isExtPict (classes: Uint8Array, cp: number): boolean {
  if (cp <= 0xffff) return ((classes[cp] as number) & PICT) !== 0
  return cp >= ASTRAL_PICT_START && cp <= ASTRAL_PICT_END && astralPict?.[cp - ASTRAL_PICT_START] === 1
}

/** Regional indicators (flag halves): U+1F1E6..U+1F1FF. */
function isRegionalIndicator (cp: number): boolean {
  return cp >= 0x1f1e6 && cp <= 0x1f1ff
}

/**
 * Astral code points that are a plain grapheme base (GCB=Other, not Prepend,
 * Extend or InCB consonant/linker): the emoji/symbol planes U+1F000..U+1FAFF
 * except regional indicators and the skin-tone modifiers U+1F3FB..U+1F3FF, and
 * the CJK extension planes U+20000..U+3FFFF.
 */
function isPlainAstral (cp: number): boolean {
  if (cp >= 0x20000 && cp <= 0x3ffff) return true
  return cp >= 0x1f000 && cp <= 0x1faff && !isRegionalIndicator(cp) && !(cp >= 0x1f3fb && cp <= 0x1f3ff)
}

/**
 * End (exclusive) of the grapheme cluster starting at `start` (a known grapheme
 * boundary) when it has this common shape, else -1 (caller falls back to
 * Intl.Segmenter):
 *   base = plain BMP non-control non-joining char | plain astral char | 1 or 2 regional indicators
 *   then any of: U+FE0E/U+FE0F, U+0300..U+036F, skin-tone modifier U+1F3FB..U+1F3FF,
 *                ZWJ (joined with a following Extended_Pictographic when the
 *                sequence so far is ExtPict Extend*, rule GB11)
 *   then a non-joining code unit, a plain astral char, a regional indicator or the end.
 * Those extenders are Extend/ZWJ but never InCB linkers, the base is not Prepend,
 * Control or a Hangul jamo, a regional indicator pair is complete and what follows
 * does not join backwards, so UAX #29 breaks exactly at the returned index.
 */
function simpleClusterEnd (text: string, start: number, classes: Uint8Array): number {
  const n = text.length
  const c = text.charCodeAt(start)
  let k: number
  let pict: boolean // the cluster so far matches ExtPict Extend*
  if (isHighSurrogate(c)) {
    const cp = text.codePointAt(start) as number
    if (cp <= 0xffff) return -1 // lone surrogate
    if (isRegionalIndicator(cp)) {
      k = start + 2
      const cp2 = k < n ? text.codePointAt(k) as number : -1
      if (isRegionalIndicator(cp2)) k += 2
      pict = false
    } else if (isPlainAstral(cp)) {
      k = start + 2
      pict = isExtPict(classes, cp)
    } else {
      return -1
    }
  } else if (joins(classes, c) || c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029) {
    return -1 // joining unit or GCB=Control
  } else {
    k = start + 1
    pict = isExtPict(classes, c)
  }
  while (k < n) {
    const d = text.charCodeAt(k)
    if (d === 0xfe0f || d === 0xfe0e || (d >= 0x0300 && d <= 0x036f)) {
      k++
    } else if (d === 0xd83c && k + 1 < n && text.charCodeAt(k + 1) >= 0xdffb && text.charCodeAt(k + 1) <= 0xdfff) {
      k += 2 // skin-tone modifier U+1F3FB..U+1F3FF
    } else if (d === 0x200d) {
      k++
      if (pict && k < n) {
        const cp = text.codePointAt(k) as number
        if (cp > 0xffff ? isPlainAstral(cp) && isExtPict(classes, cp) : !joins(classes, cp) && isExtPict(classes, cp)) {
          k += cp > 0xffff ? 2 : 1
          continue // still ExtPict Extend*
        }
      }
      pict = false
    } else {
      break
    }
  }
  if (k < n && joins(classes, text.charCodeAt(k))) {
    // A following plain astral char or regional indicator does not join backwards
    // (after a regional indicator pair, the next one starts a new flag).
    const next = text.codePointAt(k) as number
    if (!isPlainAstral(next) && !isRegionalIndicator(next)) return -1
  }
  return k
}

function analyzeUcs2 (text: string): SegmentInfo {
  const classes = graphemeClasses()
  const cap = UCS2_MULTI_SEGMENT
  const n = text.length
  const nonGsm: string[] = []
  const seenSingle = new Set<number>() // non-GSM single-unit graphemes already listed
  const seenCluster = new Set<string>() // non-GSM multi-unit graphemes already listed
  let characters = 0
  let segments = 1
  let used = 0 // UTF-16 units in the current 67-unit segment

  // Places one grapheme cluster [start, end) of `text`.
  const placeCluster = (start: number, end: number): void => {
    characters++
    const len = end - start
    if (len === 1) {
      const code = text.charCodeAt(start)
      if (GSM_COST[code] === 0 && !seenSingle.has(code)) {
        seenSingle.add(code)
        nonGsm.push(String.fromCharCode(code))
      }
    } else {
      for (let k = start; k < end; k++) {
        if (GSM_COST[text.charCodeAt(k)] === 0) {
          const cluster = text.slice(start, end)
          if (!seenCluster.has(cluster)) {
            seenCluster.add(cluster)
            nonGsm.push(cluster)
          }
          break
        }
      }
    }
    if (len <= cap) {
      // The whole cluster moves to the next segment when it does not fit.
      if (used + len > cap) {
        segments++
        used = len
      } else {
        used += len
      }
      return
    }
    // Cluster longer than a segment: split at code-point boundaries only.
    for (let k = start; k < end; k++) {
      const size = isHighSurrogate(text.charCodeAt(k)) && k + 1 < end && isLowSurrogate(text.charCodeAt(k + 1)) ? 2 : 1
      if (used + size > cap) {
        segments++
        used = size
      } else {
        used += size
      }
      k += size - 1
    }
  }

  let i = 0
  while (i < n) {
    const code = text.charCodeAt(i)
    const next = i + 1 < n ? text.charCodeAt(i + 1) : -1
    if (!joins(classes, code) && (next === -1 || !joins(classes, next))) {
      if (code === CR && next === LF) { // GB3: CR LF is one grapheme
        placeCluster(i, i + 2)
        i += 2
        continue
      }
      // Standalone single-unit grapheme: the hot path, no allocation unless new non-GSM.
      characters++
      if (GSM_COST[code] === 0 && !seenSingle.has(code)) {
        seenSingle.add(code)
        nonGsm.push(String.fromCharCode(code))
      }
      if (used + 1 > cap) {
        segments++
        used = 1
      } else {
        used++
      }
      i++
      continue
    }
    // Common short clusters (emoji, emoji + VS16 / skin tone, flags, Latin + combining
    // accent) are recognised without Intl.Segmenter.
    const end = simpleClusterEnd(text, i, classes)
    if (end > 0) {
      placeCluster(i, end)
      i = end
      continue
    }
    // Complex region: runs until two consecutive non-joining units (not CR LF), where a break is certain.
    let j = i + 1
    while (j < n) {
      const prev = text.charCodeAt(j - 1)
      const cur = text.charCodeAt(j)
      if (!joins(classes, cur) && !joins(classes, prev) && !(prev === CR && cur === LF)) break
      j++
    }
    let offset = i
    for (const { segment } of graphemeSegmenter().segment(text.slice(i, j))) {
      placeCluster(offset, offset + segment.length)
      offset += segment.length
    }
    i = j
  }

  const units = n
  if (units <= UCS2_SINGLE_SEGMENT) {
    return {
      encoding: 'UCS-2',
      segments: 1,
      characters,
      units,
      perSegment: UCS2_SINGLE_SEGMENT,
      remainingInSegment: UCS2_SINGLE_SEGMENT - units,
      nonGsmCharacters: nonGsm
    }
  }
  return {
    encoding: 'UCS-2',
    segments,
    characters,
    units,
    perSegment: UCS2_MULTI_SEGMENT,
    remainingInSegment: UCS2_MULTI_SEGMENT - used,
    nonGsmCharacters: nonGsm
  }
}

/**
 * Applies the look-alike replacements of SMART_REPLACEMENTS, then composes
 * (NFC) any base + combining-mark cluster whose composed form is GSM-7
 * (e.g. "e" + U+0301 -> "é"). GSM-7 text is returned unchanged. The result may
 * still be UCS-2 when other non-GSM characters remain.
 */
export function smartEncode (text: string): string {
  if (isGsm7(text)) return text

  let out = ''
  let last = 0
  let changed = false
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (GSM_COST[code] !== 0) continue
    const replacement = REPLACEMENT_BY_CODE.get(code)
    if (replacement === undefined) continue
    out += text.slice(last, i) + replacement
    last = i + 1
    changed = true
  }
  let result = changed ? out + text.slice(last) : text

  if (MARK.test(result) && !isGsm7(result)) {
    result = result.replace(BASE_WITH_MARKS, (cluster) => {
      const composed = cluster.normalize('NFC')
      return isGsm7(composed) ? composed : cluster
    })
  }
  return result
}

/**
 * Analyses `text` before and after smart encoding. The smart-encoded text is
 * used (`applied: true`) only when it changed and is worth it: it needs fewer
 * segments, or the same number of segments but becomes GSM-7. Otherwise the
 * original text is kept (e.g. a Cyrillic message stays UCS-2 anyway, and
 * "…" -> "..." could even add a segment).
 */
export function smartEncodingReport (text: string): SmartEncodingReport {
  const before = analyzeSegments(text)
  const notApplied: SmartEncodingReport = { text, applied: false, before, after: before, segmentsSaved: 0 }
  if (before.encoding === 'GSM-7') return notApplied

  const candidate = smartEncode(text)
  if (candidate === text) return notApplied

  const after = analyzeSegments(candidate)
  const worthIt = after.segments < before.segments ||
    (after.segments === before.segments && after.encoding === 'GSM-7')
  if (!worthIt) return notApplied

  return { text: candidate, applied: true, before, after, segmentsSaved: before.segments - after.segments }
}
