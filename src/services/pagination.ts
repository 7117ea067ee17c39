import { AppError } from '../errors.js'

/** Cursors are opaque to clients: the last item's sort key, base64url-encoded. */
export function encodeCursor (value: string): string {
  return Buffer.from(value, 'utf8').toString('base64url')
}

export function decodeCursor (cursor: string | undefined, isValid: (value: string) => boolean): string | undefined {
  if (cursor === undefined) return undefined
  const value = Buffer.from(cursor, 'base64url').toString('utf8')
  if (!isValid(value)) throw new AppError('INVALID_CURSOR', 'cursor is not a value returned as nextCursor')
  return value
}

/** Fetches one row more than asked, to know whether a next page exists without a count. */
export async function page<T> (limit: number, fetch: (limit: number) => Promise<T[]>, keyOf: (item: T) => string): Promise<{ items: T[], nextCursor: string | null }> {
  const rows = await fetch(limit + 1)
  const items = rows.slice(0, limit)
  const last = items[items.length - 1]
  return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null }
}
