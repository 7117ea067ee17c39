/**
 * The line of a file that first held each phone number, for an import's duplicate check: a map from
 * a number's E.164 digits (read as an integer: at most 15 digits, ITU-T E.164 §6, so below 2^53 and
 * exact) to a line number. Pure.
 *
 * Not a Map<number, number>: a key that large is no small integer to the engine, so such a map
 * allocates a heap number per key, and an import of 100,000 rows keeps 100,000 of them (and the
 * map's table) in the heap of the thread that reads it, copied and marked by its collections, which
 * a number check's garbage makes frequent. Here the keys and lines lie in typed arrays outside the
 * heap (open addressing, linear probing, at most three quarters full: 16 to 32 bytes a number), and
 * a row costs one search (`add`), not a `get` and a `set`.
 */
export class NumberLines {
  /** The keys by slot (0: an empty slot; no E.164 number reads as 0), and their lines. */
  private keys = new Float64Array(1024)
  private lines = new Uint32Array(1024)
  private count = 0

  /** Numbers held. */
  get size (): number {
    return this.count
  }

  /** The line `key` was first added with, or undefined. `key`: E.164 digits as an integer. */
  get (key: number): number | undefined {
    const slot = find(this.keys, key)
    return this.keys[slot] === key ? this.lines[slot] : undefined
  }

  /**
   * The line `key` was first added with: `line` when it is new (and now held), else the earlier
   * one (and `line` is not kept). Throws RangeError for a key that is not an integer from 1 to
   * 10^15 − 1 (not E.164 digits) or a line that is not an integer from 1 to 2^32 − 1.
   */
  add (key: number, line: number): number {
    if (!Number.isInteger(key) || key < 1 || key >= 1e15) throw new RangeError(`${key} is not the digits of an E.164 number`)
    if (!Number.isInteger(line) || line < 1 || line > 0xffffffff) throw new RangeError(`${line} is not a line number`)
    const slot = find(this.keys, key)
    if (this.keys[slot] === key) return this.lines[slot]!
    if ((this.count + 1) * 4 > this.keys.length * 3) {
      this.grow()
      return this.add(key, line)
    }
    this.keys[slot] = key
    this.lines[slot] = line
    this.count++
    return line
  }

  private grow (): void {
    const { keys, lines } = this
    this.keys = new Float64Array(keys.length * 2)
    this.lines = new Uint32Array(keys.length * 2)
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!
      if (key === 0) continue
      const slot = find(this.keys, key)
      this.keys[slot] = key
      this.lines[slot] = lines[i]!
    }
  }
}

/** The slot of `key` in `keys`: where it is, or the empty one where it would go (the first from its hash on). */
function find (keys: Float64Array, key: number): number {
  const mask = keys.length - 1
  let slot = hash(key) & mask
  while (keys[slot] !== key && keys[slot] !== 0) slot = (slot + 1) & mask
  return slot
}

/** A 32-bit hash of an integer below 2^53: its high and low 32 bits mixed (the finalizer of MurmurHash3). */
function hash (key: number): number {
  // For an integer below 2^53, `>>> 0` keeps its low 32 bits.
  const low = key >>> 0
  const high = (key / 0x100000000) >>> 0
  let h = low ^ Math.imul(high, 0x9e3779b1)
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}
