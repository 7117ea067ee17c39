import { describe, expect, it } from 'vitest'
import { maskPhone, maskPhoneNumbers, redactUrl, safeRequestId } from '../src/logger.js'

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

describe('maskPhoneNumbers (free text: provider errors, database errors)', () => {
  it.each([
    ['Invalid destination address 14155552671', 'Invalid destination address *******2671'],
    ['to +1 (415) 555-2671 failed', 'to +*******2671 failed'],
    ['1.415.555.2671', '*******2671'],
    ['[1][415][555][2671]', '[*******2671]'],
    ['1_415_555_2671 and 44 7911 123456', '*******2671 and ********3456'],
    ['consentAt 2030-01-01T00:00:00Z lies in the future', 'consentAt 2030-01-01T00:00:00Z lies in the future'],
    ['on 2026-06-15 16:00:05.000+0000', 'on 2026-06-15 16:00:05.000+0000'],
    ['6 digits 123456 stay', '6 digits 123456 stay'],
    ['order #1234567', 'order #***4567'],
    ['no digits', 'no digits']
  ])('%j → %j', (input, expected) => {
    expect(maskPhoneNumbers(input)).toBe(expected)
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
    // A number however it is encoded or spaced, under any parameter name.
    ['/messages?to=%2B1+415+555+2671', '/messages?to=*******2671'],
    ['/messages?to=%2B1%20415%20555%202671', '/messages?to=*******2671'],
    ['/contacts?phoneNumber=1.415.555.2671', '/contacts?phoneNumber=*******2671'],
    ['/contacts?phoneNumber[]=14155552671', '/contacts?phoneNumber[]=[REDACTED]'],
    ['/contacts?filter[phone]=%2B14155552671', '/contacts?filter[phone]=[REDACTED]'],
    ['/contacts?%2B14155552671=1', '/contacts?+*******2671=[REDACTED]'],
    ['/messages?status=1-415-555-2671', '/messages?status=[REDACTED]'],
    ['/messages?limit=eyJhbGciOiJIUzI1NiJ9.e30.c2ln&status=delivered', '/messages?limit=[REDACTED]&status=delivered'],
    ['/contacts/%2B91+987+654+3210', '/contacts/+********3210'],
    ['/contacts/eyJhbGciOiJIUzI1NiJ9.ZnV6ei1zZWNyZXQ.c2lnbmF0dXJl/consent', '/contacts/[REDACTED]/consent'],
    ['/webhooks/infobip/delivery-reports', '/webhooks/infobip/delivery-reports'],
    // A secret sent by mistake, whatever its name.
    ['/messages?access_token=sk_live_abc', '/messages?access_token=[REDACTED]'],
    ['/messages?x-api-key=k3y', '/messages?x-api-key=[REDACTED]'],
    ['/messages?api_key=k3y&limit=5', '/messages?api_key=[REDACTED]&limit=5'],
    ['/messages?tag=vip&cursor=KzE0MTU1NTUyNjcx', '/messages?tag=[REDACTED]&cursor=[REDACTED]'],
    // Paths: ids stay readable, numbers are masked however they are encoded.
    ['/messages/01a21f59-9c71-72ed-8b95-4639baf8feca', '/messages/01a21f59-9c71-72ed-8b95-4639baf8feca'],
    ['/contacts/%2B1%20415%20555%202671', '/contacts/+*******2671'],
    ['/contacts/14155552671/consent', '/contacts/*******2671/consent'],
    ['/health', '/health'],
    ['/messages?limit', '/messages?limit']
  ])('%s → %s', (input, expected) => {
    expect(redactUrl(input)).toBe(expected)
  })
})

describe('safeRequestId: a client id is kept only in a form that cannot hold a phone number', () => {
  it.each<[unknown, string | null]>([
    ['01a21f59-9c71-72ed-8b95-4639baf8feca', '01a21f59-9c71-72ed-8b95-4639baf8feca'],
    ['550E8400-E29B-41D4-A716-446655440000', '550E8400-E29B-41D4-A716-446655440000'],
    ['req-42', 'req-42'],
    ['checkout.v2_12345', 'checkout.v2_12345'],
    ['checkout.v2_123456', null],
    ['sk_live_0123abcdefABCDEF', null],
    ['eyJhbGciOiJIUzI1NiJ9.e30.c2ln', null],
    ['14155552671', null],
    ['1.415.555.2671', null],
    ['order-1415-555-2671', null],
    ['+14155552671', null],
    ['a b', null],
    ['x'.repeat(21), null],
    ['', null],
    [['a', 'b'], null],
    [undefined, null]
  ])('%j → %j', (input, expected) => {
    expect(safeRequestId(input)).toBe(expected)
  })
})
