import { isUtf8 } from 'node:buffer'

/**
 * Which character encoding a CSV upload is in, from its first bytes. Spreadsheets write UTF-8 (with
 * or without a byte-order mark), UTF-16 with a BOM (Excel "Unicode text") or Windows-1252 (Excel's
 * "CSV" on Windows in Western Europe and the Americas). Pure; the decoding itself is iconv-lite's.
 */

export type SupportedCharset = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252'

/**
 * A declared charset label as the WHATWG Encoding Standard reads it: latin1, iso-8859-1 and ascii
 * all mean windows-1252 (what browsers and Excel actually write); null for a label we do not decode.
 */
export function charsetFromLabel (label: string): SupportedCharset | null {
  const name = label.trim().toLowerCase().replace(/^["']|["']$/g, '')
  if (['utf-8', 'utf8', 'unicode-1-1-utf-8'].includes(name)) return 'utf-8'
  if (['utf-16le', 'utf-16', 'utf16', 'utf16le', 'unicode', 'ucs-2', 'csunicode', 'iso-10646-ucs-2'].includes(name)) return 'utf-16le'
  if (['utf-16be', 'utf16be', 'unicodefffe'].includes(name)) return 'utf-16be'
  if (['windows-1252', 'cp1252', 'x-cp1252', 'latin1', 'iso-8859-1', 'iso8859-1', 'iso_8859-1', 'l1', 'ascii', 'us-ascii', 'iso-ir-100', 'ansi_x3.4-1968', 'cp819', 'ibm819'].includes(name)) return 'windows-1252'
  return null
}

/** The encoding a byte-order mark announces, and the mark's length; null without one. */
export function charsetFromBom (head: Uint8Array): { charset: SupportedCharset, length: number } | null {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { charset: 'utf-8', length: 3 }
  if (head[0] === 0xff && head[1] === 0xfe) return { charset: 'utf-16le', length: 2 }
  if (head[0] === 0xfe && head[1] === 0xff) return { charset: 'utf-16be', length: 2 }
  return null
}

/** UTF-16 without a BOM: Latin text in it has a zero in every other byte. Needs about 64 bytes. */
export function utf16WithoutBom (head: Uint8Array): 'utf-16le' | 'utf-16be' | null {
  const pairs = Math.floor(Math.min(head.length, 1024) / 2)
  if (pairs < 8) return null
  let zeroEven = 0
  let zeroOdd = 0
  for (let i = 0; i < pairs; i++) {
    if (head[2 * i] === 0) zeroEven++
    if (head[2 * i + 1] === 0) zeroOdd++
  }
  if (zeroOdd >= pairs * 0.4 && zeroEven <= pairs * 0.05) return 'utf-16le'
  if (zeroEven >= pairs * 0.4 && zeroOdd <= pairs * 0.05) return 'utf-16be'
  return null
}

/** Bytes at the end of `bytes` that start a UTF-8 sequence not complete yet (0–3). */
function incompleteTail (bytes: Uint8Array): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const byte = bytes[bytes.length - back]!
    if ((byte & 0xc0) === 0x80) continue // continuation byte: look further back for the lead
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1
    return needed > back ? back : 0
  }
  return 0
}

/**
 * UTF-8 or Windows-1252, for bytes without a BOM: undecided (null) while they are plain ASCII (the
 * same in both), then UTF-8 if the non-ASCII bytes seen are valid UTF-8, else Windows-1252 — whose
 * accented letters (`é` = E9 followed by a letter) are almost never valid UTF-8. `final`: no more
 * bytes will come, so an incomplete sequence at the end is invalid rather than awaited.
 */
export function utf8OrWindows1252 (bytes: Uint8Array, final: boolean): 'utf-8' | 'windows-1252' | null {
  let first = -1
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i]! >= 0x80) {
      first = i
      break
    }
  }
  if (first === -1) return final ? 'utf-8' : null
  const rest = bytes.subarray(first)
  const tail = final ? 0 : incompleteTail(rest)
  if (tail === rest.length) return null
  return isUtf8(rest.subarray(0, rest.length - tail)) ? 'utf-8' : 'windows-1252'
}
