/**
 * Polls `probe` every 5 ms until it returns something other than false/null/undefined, and returns that.
 * Throws naming `what` after `timeoutMs`. For conditions a test cannot be called back on.
 */
export async function waitFor<T> (probe: () => T | Promise<T>, what: string, timeoutMs = 5000): Promise<Exclude<T, false | null | undefined>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined && value !== null && value !== false) return value as Exclude<T, false | null | undefined>
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

export const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))
