/**
 * The line of a file that first held each phone number, for an import's duplicate check: a map from
 * a number's E.164 digits (read as an integer: at most 15 digits, ITU-T E.164 §6, so below 2^53 and
 * exact) to a line number. Pure.
 *
 * Not a Map<number, number>: a key that large is no small integer to the engine, so such a map
 * allocates a heap number per key, and an import of 100,000 rows keeps 100,000 of them (and the
 * map's table) in the heap of the thread that reads it, copied and marked by its collections, which
 * a number check's garbage makes frequent. Here the keys and lines lie in one typed array outside the
 * heap (open addressing, linear probing, at most half full: 32 to 64 bytes a number), and a row
 * costs one probe (`add`), not a `get` and a `set`.
 */
export class NumberLines {
  /** Slot i: the key at 2i (0: empty; no E.164 number reads as 0), its line at 2i + 1. */
  private slots = new Float64Array(2 * 1024)
  private count = 0

  /** Numbers held. */
  get size (): number {
    return this.count
  }

  /** The line `key` was first added with, or undefined. `key`: E.164 digits as an integer. */
  get (key: number): number | undefined {
    const slots = this.slots
    const mask = (slots.length >> 1) - 1
    for (let slot = hash(key) & mask; ; slot = (slot + 1) & mask) {
      const held = slots[2 * slot]!
      if (held === key) return slots[2 * slot + 1]
      if (held === 0) return undefined
    }
  }

  /**
   * The line `key` was first added with: `line` when it is new (and now held), else the earlier
   * one (and `line` is not kept). Throws RangeError for a key that is not an integer from 1 to
   * 10^15 − 1 (not E.164 digits) or a line that is not a positive integer.
   */
  add (key: number, line: number): number {
    if (!Number.isInteger(key) || key < 1 || key >= 1e15) throw new RangeError(`${key} is not the digits of an E.164 number`)
    if (!Number.isInteger(line) || line < 1) throw new RangeError(`${line} is not a line number`)
    if ((this.count + 1) * 4 > this.slots.length) this.grow()
    const first = place(this.slots, key, line)
    if (first === line) this.count++
    return first
  }

  private grow (): void {
    const old = this.slots
    this.slots = new Float64Array(old.length * 2)
    for (let i = 0; i < old.length; i += 2) {
      if (old[i] !== 0) place(this.slots, old[i]!, old[i + 1]!)
    }
  }
}

/** The line in the slot of `key`, after putting `line` there if it had none (its slot: the first empty one from its hash on). */
function place (slots: Float64Array, key: number, line: number): number {
  const mask = (slots.length >> 1) - 1
  for (let slot = hash(key) & mask; ; slot = (slot + 1) & mask) {
    const held = slots[2 * slot]!
    if (held === key) return slots[2 * slot + 1]!
    if (held === 0) {
      slots[2 * slot] = key
      slots[2 * slot + 1] = line
      return line
    }
  }
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
