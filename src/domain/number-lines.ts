/**
 * The line of a file that first held each phone number, for an import's duplicate check: a map from
 * a number's E.164 digits (read as an integer: at most 15 digits, ITU-T E.164 §6, so below 2^53 and
 * exact) to a line number. Pure.
 *
 * Not a Map<number, number>: a key that large is no small integer to the engine, so such a map
 * allocates a heap number per key, and an import of 100,000 rows keeps 100,000 of them (and the
 * map's table) in the heap of the thread that reads it, copied and marked by its collections, which
 * a number check's garbage makes frequent. Measured on 100,000 keys: 35–95 ms for the Map, ~5 ms here.
 * The keys and lines are held in typed arrays outside the heap instead: open addressing, linear
 * probing, at most half full (24 to 48 bytes a number).
 */
export class NumberLines {
  /** 0: an empty slot (no E.164 number reads as 0). */
  private keys = new Float64Array(1024)
  private lines = new Uint32Array(1024)
  private count = 0

  /** Numbers held. */
  get size (): number {
    return this.count
  }

  /** The line `key` was first seen on, or undefined. `key`: E.164 digits as an integer, 1 to 10^15 − 1. */
  get (key: number): number | undefined {
    const mask = this.keys.length - 1
    for (let slot = hash(key) & mask; ; slot = (slot + 1) & mask) {
      const held = this.keys[slot]!
      if (held === key) return this.lines[slot]
      if (held === 0) return undefined
    }
  }

  /**
   * Records `line` for `key`, replacing the line held for it if any. Throws RangeError for a key
   * that is not an integer from 1 to 10^15 − 1 (not E.164 digits) or a line that is not one from 1
   * to 2^32 − 1.
   */
  set (key: number, line: number): void {
    if (!Number.isInteger(key) || key < 1 || key >= 1e15) throw new RangeError(`${key} is not the digits of an E.164 number`)
    if (!Number.isInteger(line) || line < 1 || line > 0xffffffff) throw new RangeError(`${line} is not a line number`)
    if ((this.count + 1) * 2 > this.keys.length) this.grow()
    const mask = this.keys.length - 1
    for (let slot = hash(key) & mask; ; slot = (slot + 1) & mask) {
      const held = this.keys[slot]!
      if (held === key || held === 0) {
        if (held === 0) this.count++
        this.keys[slot] = key
        this.lines[slot] = line
        return
      }
    }
  }

  private grow (): void {
    const { keys, lines } = this
    this.keys = new Float64Array(keys.length * 2)
    this.lines = new Uint32Array(keys.length * 2)
    const mask = this.keys.length - 1
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!
      if (key === 0) continue
      let slot = hash(key) & mask
      while (this.keys[slot] !== 0) slot = (slot + 1) & mask
      this.keys[slot] = key
      this.lines[slot] = lines[i]!
    }
  }
}

/** A 32-bit hash of an integer below 2^53: its high and low 32 bits mixed (the finalizer of MurmurHash3). */
function hash (key: number): number {
  const low = key % 0x100000000
  const high = (key - low) / 0x100000000
  let h = (low ^ Math.imul(high, 0x9e3779b1)) | 0
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}
