import { describe, expect, it } from 'vitest'
import { describeTextFault, findTextFault, type TextFault } from '../../src/domain/text.js'

const control = (position: number, code: string): TextFault => ({ position, character: code, kind: 'control character' })
const lone = (position: number, code: string): TextFault => ({ position, character: code, kind: 'lone surrogate' })

describe('findTextFault (message rule)', () => {
  it.each<[string, string, TextFault | null]>([
    ['plain text', 'Your order has shipped.', null],
    ['empty', '', null],
    ['line feed, carriage return and tab are allowed', 'a\nb\r\nc\td', null],
    ['U+0000 at the start', '\u0000abc', control(1, 'U+0000')],
    ['U+0000 in the middle', 'a\u0000b', control(2, 'U+0000')],
    ['U+0008 backspace', 'ab\bc', control(3, 'U+0008')],
    ['U+000B vertical tab', 'a\u000bb', control(2, 'U+000B')],
    ['U+000C form feed', 'a\u000cb', control(2, 'U+000C')],
    ['U+001B escape', '\u001b[31m', control(1, 'U+001B')],
    ['U+001F, last C0 control', 'x\u001f', control(2, 'U+001F')],
    ['U+0020 space is text', ' ', null],
    ['U+007E tilde is text', '~', null],
    ['U+007F delete', 'a\u007f', control(2, 'U+007F')],
    ['U+0080, first C1 control', '\u0080', control(1, 'U+0080')],
    ['U+009F, last C1 control', 'ab\u009f', control(3, 'U+009F')],
    ['U+00A0 no-break space is text', 'a\u00a0b', null],
    ['accents and euro', 'Café €5', null],
    ['emoji (a surrogate pair) counts as one character', '😀\u0000', control(2, 'U+0000')],
    ['flag (two pairs) then NUL', '🇺🇸\u0000', control(3, 'U+0000')],
    ['zero-width joiner sequence is text', '👩‍👩‍👧', null],
    ['lone high surrogate in the middle', 'a\ud800b', lone(2, 'U+D800')],
    ['lone high surrogate at the end', 'ab\udbff', lone(3, 'U+DBFF')],
    ['lone low surrogate at the start', '\udc00ab', lone(1, 'U+DC00')],
    ['pair in the wrong order', '\ude00\ud83d', lone(1, 'U+DE00')],
    ['two high surrogates', '\ud83d\ud83d\ude00', lone(1, 'U+D83D')],
    ['the issue\'s text', 'a\ud800b\u0000c', lone(2, 'U+D800')]
  ])('%s', (_name, text, expected) => {
    expect(findTextFault(text)).toEqual(expected)
  })
})

describe('findTextFault (storable rule: what no database can hold)', () => {
  it.each<[string, string, TextFault | null]>([
    ['form feed is kept as sent', 'STOP\u000c', null],
    ['escape is kept as sent', '\u001bSTOP', null],
    ['C1 control is kept as sent', 'a\u0085b', null],
    ['NUL is refused', 'STOP\u0000', control(5, 'U+0000')],
    ['a lone surrogate is refused', 'STOP\ud800', lone(5, 'U+D800')]
  ])('%s', (_name, text, expected) => {
    expect(findTextFault(text, 'storable')).toEqual(expected)
  })
})

describe('describeTextFault', () => {
  it('names the field, the character and its position', () => {
    expect(describeTextFault('message', control(4, 'U+0000'))).toBe('message contains a control character (U+0000) at position 4; only line breaks and tabs are allowed')
    expect(describeTextFault('message', lone(2, 'U+D800'))).toBe('message contains a lone surrogate (U+D800) at position 2')
  })
})
