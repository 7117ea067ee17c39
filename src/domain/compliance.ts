import { withOptOutFooter } from './footer.js'
import { checkQuietHours, type TimeWindow } from './quiet-hours.js'
import { locateNumber } from './recipient-location.js'
import { frequencyCapFor } from './rules.js'

/**
 * The compliance gate's decision, as a pure function of what is known about the recipient. The
 * service gathers the facts (in bulk, inside the transaction that records the outcome) and calls this.
 */

export type Purpose = 'marketing' | 'transactional'
export type BlockCode = 'RECIPIENT_OPTED_OUT' | 'NO_CONSENT' | 'FREQUENCY_CAP'

export type Decision =
  | { outcome: 'allow', text: string }
  | { outcome: 'block', code: 'RECIPIENT_OPTED_OUT' | 'NO_CONSENT', reason: string }
  /** nextAllowedAt: when the oldest counted message leaves the cap's window. */
  | { outcome: 'block', code: 'FREQUENCY_CAP', reason: string, nextAllowedAt: Date }
  | { outcome: 'defer', code: 'QUIET_HOURS', reason: string, nextAllowedAt: Date }

export interface RecipientFacts {
  suppressed: boolean
  /** The latest consent decision on record for the number. */
  consent: 'opt_in' | 'opt_out' | null
  /** The contact's stored zone, which wins over what the number suggests. */
  timezone: string | null
  /** Marketing messages already sent or on their way to the number within the cap's window. */
  recentMarketing: number
  /** When the oldest of those was created (ISO-8601); null when there are none. */
  recentMarketingOldestAt: string | null
}

export interface Policy {
  consentRequired: boolean
  quietHours: TimeWindow
  defaultTimeZone: string
  optOutFooter: string
}

export interface Request {
  to: string
  text: string
  purpose: Purpose
  now: Date
}

const HOUR_MS = 60 * 60 * 1000

/** How far back the frequency cap for this number looks, or null when its region has no cap. */
export function capWindowStart (to: string, now: Date): Date | null {
  const cap = frequencyCapFor(locateNumber(to).region ?? undefined)
  return cap === null ? null : new Date(now.getTime() - cap.windowHours * HOUR_MS)
}

export function decide (request: Request, facts: RecipientFacts, policy: Policy): Decision {
  if (facts.suppressed) {
    return { outcome: 'block', code: 'RECIPIENT_OPTED_OUT', reason: 'The recipient has opted out of messages from this sender' }
  }
  // Transactional messages answer something the person asked for: no consent or quiet-hours rules.
  if (request.purpose === 'transactional') return { outcome: 'allow', text: request.text }

  if (policy.consentRequired && facts.consent !== 'opt_in') {
    return { outcome: 'block', code: 'NO_CONSENT', reason: 'Marketing needs a recorded opt-in from the recipient' }
  }
  const location = locateNumber(request.to)
  const timeZones = facts.timezone !== null ? [facts.timezone] : location.timeZones.length > 0 ? location.timeZones : [policy.defaultTimeZone]
  const window = checkQuietHours({ now: request.now, timeZones, region: location.region, country: location.country, defaultWindow: policy.quietHours })
  if (!window.allowed) {
    return { outcome: 'defer', code: 'QUIET_HOURS', reason: `Marketing is not allowed now in the recipient's local time: ${window.reason}`, nextAllowedAt: window.nextAllowedAt }
  }
  const cap = frequencyCapFor(location.region ?? undefined)
  if (cap !== null && facts.recentMarketing >= cap.max) {
    const oldest = facts.recentMarketingOldestAt === null ? request.now.getTime() : Date.parse(facts.recentMarketingOldestAt)
    return {
      outcome: 'block',
      code: 'FREQUENCY_CAP',
      reason: `At most ${cap.max} marketing messages per ${cap.windowHours} h may go to numbers in ${location.region}`,
      nextAllowedAt: new Date(oldest + cap.windowHours * HOUR_MS)
    }
  }
  return { outcome: 'allow', text: withOptOutFooter(request.text, policy.optOutFooter) }
}
