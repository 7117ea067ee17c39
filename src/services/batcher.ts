interface Waiting<T, R> {
  item: T
  resolve: (result: R) => void
  reject: (error: unknown) => void
}

/**
 * Coalesces concurrent calls into one batched run (group commit): everything submitted while the
 * previous run is busy, or within the same turn of the event loop, goes in the next run together.
 * A quiet service still runs each call on the next tick; a busy one pays one database commit per batch
 * instead of one per call — commits, not statements, are what a disk makes expensive.
 */
export function createBatcher<T, R> (run: (items: T[]) => Promise<R[]>, maxBatch: number) {
  let waiting: Array<Waiting<T, R>> = []
  let scheduled = false
  let running = false
  let idle: Array<() => void> = []

  function schedule (): void {
    if (scheduled || running) return
    scheduled = true
    setImmediate(() => { flush().catch(() => undefined) })
  }

  async function flush (): Promise<void> {
    scheduled = false
    if (waiting.length === 0) return
    running = true
    const batch = waiting.length <= maxBatch ? waiting : waiting.slice(0, maxBatch)
    waiting = waiting.length <= maxBatch ? [] : waiting.slice(maxBatch)
    try {
      const results = await run(batch.map((w) => w.item))
      for (let i = 0; i < batch.length; i++) batch[i]!.resolve(results[i]!)
    } catch (error) {
      for (const w of batch) w.reject(error)
    } finally {
      running = false
      if (waiting.length > 0) schedule()
      else {
        const wake = idle
        idle = []
        for (const done of wake) done()
      }
    }
  }

  return {
    submit (item: T): Promise<R> {
      return new Promise<R>((resolve, reject) => {
        waiting.push({ item, resolve, reject })
        schedule()
      })
    },
    async drain (): Promise<void> {
      if (!running && waiting.length === 0) return
      await new Promise<void>((resolve) => idle.push(resolve))
    }
  }
}
