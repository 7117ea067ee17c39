/**
 * A seeded pseudo-random generator (mulberry32: 32-bit state, period 2^32), so a run of `npm run prove` with the
 * same PROVE_SEED makes the same choices: kill moments, which numbers send STOP, report orders.
 */
export interface Random {
  /** Uniform in [0, 1). */
  next: () => number
  /** Uniform integer in [min, max]. */
  int: (min: number, max: number) => number
  /** Uniform in [min, max). */
  between: (min: number, max: number) => number
  pick: <T>(items: readonly T[]) => T
  /** A new array, Fisher–Yates shuffled. */
  shuffle: <T>(items: readonly T[]) => T[]
  /** `count` distinct items, in random order. */
  sample: <T>(items: readonly T[], count: number) => T[]
}

export function createRandom (seed: number): Random {
  let state = seed >>> 0
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1))
  const shuffle = <T>(items: readonly T[]): T[] => {
    const out = [...items]
    for (let i = out.length - 1; i > 0; i--) {
      const j = int(0, i)
      const swap = out[i]!
      out[i] = out[j]!
      out[j] = swap
    }
    return out
  }
  return {
    next,
    int,
    between: (min, max) => min + next() * (max - min),
    pick: (items) => items[int(0, items.length - 1)]!,
    shuffle,
    sample: (items, count) => shuffle(items).slice(0, count)
  }
}
