import { describe, expect, it } from 'vitest'
import { hasOptOutInstruction, withOptOutFooter } from '../../src/domain/footer.js'

const FOOTER = 'Reply STOP to opt out.'

describe('hasOptOutInstruction', () => {
  it.each([
    'Reply STOP to opt out.',
    'Spring sale! Reply STOP to end',
    'reply stop to unsubscribe',
    'Txt STOP to 12345 to cancel',
    'Text STOP to quit',
    "Reply 'STOP' to cancel",
    'Reply "STOP" to stop receiving these',
    'Reply with STOP to opt out',
    'Reply STOPALL to end all messages',
    'Reply END to stop receiving texts',
    'Reply STOP2END',
    'Sale today. STOP to end',
    'Sale today. Stop2Quit',
    'Opt out: reply STOPALL',
    'Opt-out anytime at acme.example/sms',
    'To unsubscribe visit acme.example/u',
    'New arrivals!\nReply STOP to opt out.'
  ])('finds the instruction in %j', (text) => {
    expect(hasOptOutInstruction(text)).toBe(true)
  })

  it.each([
    'Stop by our store today for 20% off',
    'Non-stop savings all weekend',
    "Don't stop believing: 2-for-1 tickets tonight",
    'Last stop before summer: 40% off',
    'Unstoppable deals are here',
    'Our sale ends Sunday',
    'Text us back to claim your prize',
    'Send a friend this code: SPRING10',
    'Big news!'
  ])('finds none in %j', (text) => {
    expect(hasOptOutInstruction(text)).toBe(false)
  })
})

describe('withOptOutFooter', () => {
  it('appends the footer on a new line when the text has no instruction', () => {
    expect(withOptOutFooter('Spring sale: 30% off', FOOTER)).toBe('Spring sale: 30% off\nReply STOP to opt out.')
    expect(withOptOutFooter('Stop by our store today', FOOTER)).toBe('Stop by our store today\nReply STOP to opt out.')
  })

  it('leaves text that already has one unchanged, and never doubles the footer', () => {
    expect(withOptOutFooter('Spring sale! Reply STOP to end', FOOTER)).toBe('Spring sale! Reply STOP to end')
    const once = withOptOutFooter('Hello', FOOTER)
    expect(withOptOutFooter(once, FOOTER)).toBe(once)
  })

  it('uses the configured footer', () => {
    expect(withOptOutFooter('Hello', 'Txt STOP2END')).toBe('Hello\nTxt STOP2END')
    expect(withOptOutFooter(withOptOutFooter('Hello', 'Txt STOP2END'), 'Txt STOP2END')).toBe('Hello\nTxt STOP2END')
  })
})
