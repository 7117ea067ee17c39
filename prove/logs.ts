/**
 * Scenario 8: every log line every child process wrote during the run (each service instance's stdout and
 * stderr, the fake Infobip's) scanned for the secrets (the API key, the Infobip key, the webhook secret — as
 * written, URL-encoded, and inside a Basic authorization) and for every phone number the run used, in any written
 * form: E.164 (+1415…), digits only (1415…), national (415…), URL-encoded (%2B1415…). A number is a run of digits
 * not part of a longer run, so a timestamp or a duration that happens to contain the digits does not count.
 */
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import type { Secrets } from './harness.js'

export interface LogScan {
  files: number
  lines: number
  bytes: number
  /** Where something leaked: file, line number, what (never the value itself). */
  leaks: Array<{ file: string, line: number, what: string }>
}

function secretForms (name: string, value: string): Array<{ what: string, text: string }> {
  const forms = [
    { what: name, text: value },
    { what: `${name} (URL-encoded)`, text: encodeURIComponent(value) },
    { what: `${name} (base64)`, text: Buffer.from(value).toString('base64').replace(/=+$/, '') }
  ]
  // As the password of HTTP Basic auth, the way the harness and Infobip send the webhook secret.
  forms.push({ what: `${name} (Basic auth)`, text: Buffer.from(`infobip:${value}`).toString('base64').replace(/=+$/, '') })
  return forms
}

export function scanLogs (files: string[], secrets: Secrets, numbers: Iterable<string>): LogScan {
  const forms = [
    ...secretForms('API key', secrets.apiKey),
    ...secretForms('Infobip API key', secrets.infobipKey),
    ...secretForms('webhook secret', secrets.webhookSecret)
  ]
  const numberDigits = new Map<string, string>()
  for (const number of numbers) {
    const digits = number.replace(/\D/g, '')
    numberDigits.set(digits, 'a phone number (international digits)')
    // +1 numbers are also written nationally (415…).
    if (digits.startsWith('1') && digits.length === 11) numberDigits.set(digits.slice(1), 'a phone number (national digits)')
  }
  const scan: LogScan = { files: 0, lines: 0, bytes: 0, leaks: [] }
  for (const file of new Set(files)) {
    const text = readFileSync(file, 'utf8')
    scan.files++
    scan.bytes += Buffer.byteLength(text)
    const lines = text.split('\n')
    lines.forEach((line, i) => {
      if (line === '') return
      scan.lines++
      for (const form of forms) if (line.includes(form.text)) scan.leaks.push({ file: basename(file), line: i + 1, what: form.what })
      for (const match of line.matchAll(/\d{10,15}/g)) {
        const before = line[match.index - 1]
        const after = line[match.index + match[0].length]
        if ((before !== undefined && /\d/.test(before)) || (after !== undefined && /\d/.test(after))) continue
        const what = numberDigits.get(match[0])
        if (what !== undefined) scan.leaks.push({ file: basename(file), line: i + 1, what })
      }
    })
  }
  return scan
}

/**
 * The scanner checked on a planted leak: one line per form of each secret and of one number, which must all be
 * found (and a line of near misses, which must not), so "0 leaked" cannot come from a scanner that sees nothing.
 * Returns the problems found with the scanner itself (empty: it works).
 */
export function checkScanner (file: string, secrets: Secrets, number: string, write: (path: string, text: string) => void): string[] {
  const digits = number.replace(/\D/g, '')
  const planted = [
    secrets.apiKey, encodeURIComponent(secrets.infobipKey), Buffer.from(`infobip:${secrets.webhookSecret}`).toString('base64'),
    `"to":"${number}"`, `?phoneNumber=${encodeURIComponent(number)}`, `"from":"${digits}"`, `national ${digits.slice(1)}.`
  ]
  const misses = `"time":1${digits} "n":${digits}9 "masked":"*******${digits.slice(-4)}"`
  write(file, `${planted.join('\n')}\n${misses}\n`)
  const found = scanLogs([file], secrets, [number]).leaks
  const problems: string[] = []
  for (let line = 1; line <= planted.length; line++) if (!found.some((l) => l.line === line)) problems.push(`the scanner missed planted leak ${line}`)
  if (found.some((l) => l.line === planted.length + 1)) problems.push('the scanner flagged a line with no leak')
  return problems
}
