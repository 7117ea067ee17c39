/**
 * Polls `probe` until it returns something truthy and returns that; throws naming `what` after `timeoutMs`.
 * The one way tests wait for asynchronous outcomes (a dispatcher's hand-over, a reply) without fixed sleeps.
 */
export async function waitFor<T> (probe: () => T | Promise<T>, what: string, timeoutMs = 5000): Promise<Exclude<T, false | null | undefined | 0 | ''>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== false && value !== null && value !== undefined && value !== 0 && value !== '') return value as Exclude<T, false | null | undefined | 0 | ''>
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** A fixed pause, for pacing a load (sends per second), never for waiting on an outcome. */
export const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))
