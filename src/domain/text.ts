/**
 * Characters a stored or sent text may not hold: control characters other than tab, line feed and
 * carriage return (Unicode general category Cc: U+0000–U+001F, U+007F–U+009F), and lone surrogates
 * (half of a UTF-16 pair, which no encoding can carry: UTF-8 databases store U+FFFD in its place,
 * PostgreSQL refuses U+0000 outright). Refusing them keeps what is stored byte for byte what is sent.
 */

export interface TextFault {
  /** 1-based position in characters (code points), as a person counts them. */
  position: number
  /** The offending code unit, as "U+0000". */
  character: string
  kind: 'control character' | 'lone surrogate'
}

/** How strict the check is: `message` refuses every control character but tab, LF and CR; `storable` only what no database can hold (U+0000, lone surrogates). */
export type TextRule = 'message' | 'storable'

const hex = (code: number): string => `U+${code.toString(16).toUpperCase().padStart(4, '0')}`

function isRefusedControl (code: number, rule: TextRule): boolean {
  if (rule === 'storable') return code === 0
  return (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || (code >= 0x7f && code <= 0x9f)
}

/**
 * The first character of `text` the rule refuses, or null when there is none. Runs in one pass over
 * the UTF-16 code units; emoji, flags and other surrogate pairs count as one character.
 */
export function findTextFault (text: string, rule: TextRule = 'message'): TextFault | null {
  let position = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    position++
    if (code >= 0xd800 && code <= 0xdfff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++
        continue
      }
      return { position, character: hex(code), kind: 'lone surrogate' }
    }
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) {
      if (isRefusedControl(code, rule)) return { position, character: hex(code), kind: 'control character' }
    }
  }
  return null
}

/** A person-readable sentence for a fault in the field named `field`, e.g. for a 400 body. */
export function describeTextFault (field: string, fault: TextFault, rule: TextRule = 'message'): string {
  const allowed = fault.kind === 'control character' && rule === 'message' ? '; only line breaks and tabs are allowed' : ''
  return `${field} contains a ${fault.kind} (${fault.character}) at position ${fault.position}${allowed}`
}
