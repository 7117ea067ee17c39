/**
 * Wording that already tells the reader how to opt out; a message carrying it needs no footer.
 * A bare "stop" is not enough ("Stop by our store", "Non-stop savings" tell nobody how to opt out):
 * the keyword must come as an instruction ("Reply STOP", "Text STOP to 12345", "STOP to end"), or the
 * text must speak of opting out or unsubscribing.
 */
const KEYWORD = '(?:stop\\s*all|stop|unsubscribe|end|quit|cancel|opt[\\s-]?out)'
const OPT_OUT_INSTRUCTIONS: readonly RegExp[] = [
  // "Reply STOP", "Txt STOP to 12345", "reply with 'STOP'", "Text: STOP"
  new RegExp(`\\b(?:reply|replying|respond|text|txt|send|sms)\\b(?:\\s+(?:with|back|the\\s+word))?\\s*:?\\s*["'“‘«]?${KEYWORD}\\b`, 'i'),
  // "STOP to end", "STOP2END", "Stop=quit"
  /\bstop(?:\s*all)?\s*(?:to|2|=)\s*(?:end|quit|cancel|stop|opt[\s-]?out|unsubscribe)\b/i,
  // "Opt out: …", "to unsubscribe visit …"
  /\b(?:opt[\s-]?out|unsubscribe)\b/i
]

export function hasOptOutInstruction (text: string): boolean {
  return OPT_OUT_INSTRUCTIONS.some((pattern) => pattern.test(text))
}

/** Appends the opt-out footer to marketing text that does not already say how to opt out. */
export function withOptOutFooter (text: string, footer: string): string {
  return hasOptOutInstruction(text) ? text : `${text}\n${footer}`
}
