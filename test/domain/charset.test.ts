import iconv from 'iconv-lite'
import { describe, expect, it } from 'vitest'
import { charsetFromBom, charsetFromLabel, utf16WithoutBom, utf8OrWindows1252 } from '../../src/domain/charset.js'

describe('charsetFromLabel (WHATWG labels)', () => {
  it.each([
    ['utf-8', 'utf-8'],
    ['UTF8', 'utf-8'],
    ['"utf-8"', 'utf-8'],
    ['utf-16', 'utf-16le'],
    ['UTF-16LE', 'utf-16le'],
    ['utf-16be', 'utf-16be'],
    ['windows-1252', 'windows-1252'],
    ['ISO-8859-1', 'windows-1252'],
    ['latin1', 'windows-1252'],
    ['us-ascii', 'windows-1252'],
    ['shift_jis', null],
    ['', null]
  ])('%j → %s', (label, expected) => {
    expect(charsetFromLabel(label)).toBe(expected)
  })
})

describe('charsetFromBom', () => {
  it.each([
    [[0xef, 0xbb, 0xbf, 0x61], { charset: 'utf-8', length: 3 }],
    [[0xff, 0xfe, 0x61, 0x00], { charset: 'utf-16le', length: 2 }],
    [[0xfe, 0xff, 0x00, 0x61], { charset: 'utf-16be', length: 2 }],
    [[0x61, 0x62], null],
    [[], null]
  ])('%j', (bytes, expected) => {
    expect(charsetFromBom(Uint8Array.from(bytes))).toEqual(expected)
  })
})

describe('utf16WithoutBom', () => {
  const text = 'phoneNumber,firstName\r\n+12122346001,Ann\r\n'
  it.each([
    ['UTF-16LE', iconv.encode(text, 'utf-16le'), 'utf-16le'],
    ['UTF-16BE', iconv.encode(text, 'utf-16be'), 'utf-16be'],
    ['UTF-8', Buffer.from(text), null],
    ['too short to tell', iconv.encode('ab', 'utf-16le'), null]
  ])('%s', (_name, bytes, expected) => {
    expect(utf16WithoutBom(bytes)).toBe(expected)
  })
})

describe('utf8OrWindows1252', () => {
  it.each<[string, Buffer, boolean, 'utf-8' | 'windows-1252' | null]>([
    ['plain ASCII: undecided while more may come', Buffer.from('phone,name\n'), false, null],
    ['plain ASCII at the end: UTF-8', Buffer.from('phone,name\n'), true, 'utf-8'],
    ['René in UTF-8', Buffer.from('x,René\n'), false, 'utf-8'],
    ['René in Windows-1252', iconv.encode('x,René\n', 'windows-1252'), false, 'windows-1252'],
    ['Müller; Straße in Windows-1252', iconv.encode('Müller;Straße\r\n', 'windows-1252'), false, 'windows-1252'],
    ['€ and curly quotes in Windows-1252', iconv.encode('“5 €”', 'windows-1252'), false, 'windows-1252'],
    ['emoji in UTF-8', Buffer.from('hi 😀'), false, 'utf-8'],
    ['a UTF-8 sequence cut at the end of the chunk: wait', Buffer.from('x,Ren\xc3', 'latin1'), false, null],
    ['the same at the end of the input: Windows-1252', Buffer.from('x,Ren\xc3', 'latin1'), true, 'windows-1252'],
    ['é (E9) as the last byte of a chunk: wait, it may lead a sequence', Buffer.from('x,Ren\xe9', 'latin1'), false, null],
    ['é (E9) followed by a letter: Windows-1252', Buffer.from('x,Ren\xe9e', 'latin1'), false, 'windows-1252']
  ])('%s', (_name, bytes, final, expected) => {
    expect(utf8OrWindows1252(bytes, final)).toBe(expected)
  })
})
