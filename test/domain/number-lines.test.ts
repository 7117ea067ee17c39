import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { NumberLines } from '../../src/domain/number-lines.js'

describe('NumberLines', () => {
  it.each<[string, Array<[number, number, number]>, Array<[number, number | undefined]>]>([
    ['nothing held', [], [[12125550100, undefined]]],
    ['a number added', [[12125550100, 2, 2]], [[12125550100, 2], [12125550101, undefined]]],
    ['added again: the first line stays', [[12125550100, 2, 2], [12125550100, 9, 2]], [[12125550100, 2]]],
    ['the shortest and the longest E.164 numbers', [[1000000, 3, 3], [999999999999999, 4, 4]], [[1000000, 3], [999999999999999, 4], [999999999999998, undefined]]],
    ['numbers 2^32 apart (same low 32 bits)', [[12125550100, 5, 5], [12125550100 + 0x100000000, 6, 6]], [[12125550100, 5], [12125550100 + 0x100000000, 6], [12125550100 + 0x200000000, undefined]]],
    ['a line past 2^32', [[447911123456, 2 ** 40, 2 ** 40]], [[447911123456, 2 ** 40]]]
  ])('%s', (_name, adds, gets) => {
    const lines = new NumberLines()
    for (const [key, line, first] of adds) expect(lines.add(key, line)).toBe(first)
    for (const [key, line] of gets) expect(lines.get(key)).toBe(line)
  })

  it.each<[string, number, number]>([
    ['0 (not a number)', 0, 1],
    ['a negative key', -12125550100, 1],
    ['a fraction', 12125550100.5, 1],
    ['16 digits (past E.164)', 1e15, 1],
    ['NaN', Number.NaN, 1],
    ['line 0', 12125550100, 0],
    ['a fractional line', 12125550100, 1.5]
  ])('refuses %s', (_name, key, line) => {
    const lines = new NumberLines()
    expect(() => lines.add(key, line)).toThrow(RangeError)
    expect(lines.size).toBe(0)
  })

  it('holds 100,000 numbers of five area codes, as a file of them has', () => {
    const lines = new NumberLines()
    const key = (i: number): number => Number(`1${[212, 305, 415, 512, 617][i % 5]}${String(2000000 + i).padStart(7, '0')}`)
    for (let i = 0; i < 100_000; i++) expect(lines.add(key(i), i + 2)).toBe(i + 2)
    expect(lines.size).toBe(100_000)
    for (let i = 0; i < 100_000; i++) expect(lines.get(key(i))).toBe(i + 2)
    expect(lines.get(key(100_000))).toBeUndefined()
  })

  it('answers as a Map would, whatever the numbers and the order they come in', () => {
    const digits = fc.oneof(fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 1_000_000, max: 999_999_999_999_999 }))
    fc.assert(fc.property(fc.array(fc.tuple(digits, fc.integer({ min: 1, max: 0xffffffff })), { maxLength: 3000 }), fc.array(digits, { maxLength: 200 }), (adds, probes) => {
      const lines = new NumberLines()
      const expected = new Map<number, number>()
      for (const [key, line] of adds) {
        expect(lines.get(key)).toBe(expected.get(key))
        if (!expected.has(key)) expected.set(key, line)
        expect(lines.add(key, line)).toBe(expected.get(key))
      }
      expect(lines.size).toBe(expected.size)
      for (const key of [...expected.keys(), ...probes]) expect(lines.get(key)).toBe(expected.get(key))
    }), { numRuns: 200 })
  })
})
