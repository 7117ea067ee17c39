import { describe, expect, it } from 'vitest'
import { statementSizes } from '../../src/db/repositories/bulk.js'

describe('statementSizes: the INSERT statements a number of rows is written with', () => {
  it.each<[number, number, number[]]>([
    [0, 1000, []],
    [1, 1000, [1]],
    [1000, 1000, [1000]],
    [2000, 1000, [1000, 1000]],
    [437, 1000, [256, 128, 32, 16, 4, 1]],
    [900, 1000, [512, 256, 128, 4]],
    [2437, 1000, [1000, 1000, 256, 128, 32, 16, 4, 1]],
    [999, 1000, [512, 256, 128, 64, 32, 4, 2, 1]],
    [10, 7, [7, 2, 1]],
    [7, 7, [7]]
  ])('%i rows, at most %i a statement → %j', (rows, perStatement, sizes) => {
    expect(statementSizes(rows, perStatement)).toEqual(sizes)
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(rows)
  })

  it('uses few shapes whatever the count: full statements and powers of two below them', () => {
    const shapes = new Set<number>()
    for (let rows = 0; rows <= 5000; rows++) for (const size of statementSizes(rows, 1000)) shapes.add(size)
    expect([...shapes].sort((a, b) => a - b)).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000])
  })
})
