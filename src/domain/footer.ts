// Wording that already tells the reader how to opt out; a message carrying it needs no footer.
const OPT_OUT_INSTRUCTION = /\b(stop|opt[\s-]?out|unsubscribe|stopall)\b/i

export function hasOptOutInstruction (text: string): boolean {
  return OPT_OUT_INSTRUCTION.test(text)
}

/** Appends the opt-out footer to marketing text that does not already say how to opt out. */
export function withOptOutFooter (text: string, footer: string): string {
  return hasOptOutInstruction(text) ? text : `${text}\n${footer}`
}
