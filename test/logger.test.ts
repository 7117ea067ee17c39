import { describe, expect, it } from 'vitest'
import { maskPhone, redactUrl } from '../src/logger.js'

describe('maskPhone', () => {
  it.each([
    ['+14155552671', '*******2671'],
    ['14155552671', '*******2671'],
    ['+44 7911 123456', '********3456'],
    ['1234', '****'],
    ['', ''],
    [null, '']
  ])('%s → %s', (input, expected) => {
    expect(maskPhone(input)).toBe(expected)
  })
})

describe('redactUrl', () => {
  it.each([
    ['/webhooks/infobip/inbound?token=supersecretvalue', '/webhooks/infobip/inbound?token=[REDACTED]'],
    ['/webhooks/infobip/inbound?%74oken=supersecretvalue&x=1', '/webhooks/infobip/inbound?token=[REDACTED]&x=[REDACTED]'],
    ['/w?TOKEN=abc', '/w?TOKEN=[REDACTED]'],
    ['/w?t%6Fken=abc&to=14155552671', '/w?token=[REDACTED]&to=*******2671'],
    ['/messages?to=%2B14155552671&limit=2', '/messages?to=*******2671&limit=2'],
    ['/contacts?phoneNumber=+14155552671', '/contacts?phoneNumber=*******2671'],
    ['/messages/01a21f59-9c71-72ed-8b95-4639baf8feca', '/messages/01a21f59-9c71-72ed-8b95-4639baf8feca'],
    ['/health', '/health']
  ])('%s → %s', (input, expected) => {
    expect(redactUrl(input)).toBe(expected)
  })
})
