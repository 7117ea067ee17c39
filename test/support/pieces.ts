/**
 * Where a text or an upload of `length` characters or bytes is cut into pieces: `cuts` (any
 * non-negative integers, as a property test draws them) taken modulo length + 1, each once, in order.
 * Returns the pieces as [from, to) spans covering 0..length, empty ones included.
 */
export function pieceSpans (length: number, cuts: number[]): Array<[number, number]> {
  const points = [...new Set(cuts.map((cut) => cut % (length + 1)))].sort((a, b) => a - b)
  const spans: Array<[number, number]> = []
  let from = 0
  for (const point of points) {
    spans.push([from, point])
    from = point
  }
  spans.push([from, length])
  return spans
}
