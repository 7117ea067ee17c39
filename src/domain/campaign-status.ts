/**
 * A campaign's life cycle as a pure function: which action is allowed in which status, and where it
 * leads. The service reads the campaign under a lock, asks `transition`, and answers 409 CONFLICT when
 * the answer is null.
 *
 * | status    | edit      | launch  | schedule  | start   | pause  | resume  | cancel    | complete  |
 * |-----------|-----------|---------|-----------|---------|--------|---------|-----------|-----------|
 * | draft     | draft     | sending | scheduled | –       | –      | –       | cancelled | –         |
 * | scheduled | scheduled | –       | –         | sending | –      | –       | cancelled | –         |
 * | sending   | –         | –       | –         | –       | paused | –       | cancelled | completed |
 * | paused    | –         | –       | –         | –       | –      | sending | cancelled | –         |
 * | completed | –         | –       | –         | –       | –      | –       | –         | –         |
 * | cancelled | –         | –       | –         | –       | –      | –       | –         | –         |
 *
 * - `launch`: POST /campaigns/:id/launch without a future `sendAt`; `schedule`: the same with one.
 * - `start`: the scheduler's tick when a scheduled campaign's `sendAt` has come.
 * - `complete`: the tick, once no message of the campaign is queued, deferred or sending. A paused
 *   campaign is not completed: it first has to be resumed (or cancelled).
 * - `edit`: PATCH, allowed only before the audience is materialised.
 */

export const CAMPAIGN_STATUSES = ['draft', 'scheduled', 'sending', 'paused', 'completed', 'cancelled'] as const
export type CampaignStatus = typeof CAMPAIGN_STATUSES[number]

export const CAMPAIGN_ACTIONS = ['edit', 'launch', 'schedule', 'start', 'pause', 'resume', 'cancel', 'complete'] as const
export type CampaignAction = typeof CAMPAIGN_ACTIONS[number]

const TRANSITIONS: Record<CampaignStatus, Partial<Record<CampaignAction, CampaignStatus>>> = {
  draft: { edit: 'draft', launch: 'sending', schedule: 'scheduled', cancel: 'cancelled' },
  scheduled: { edit: 'scheduled', start: 'sending', cancel: 'cancelled' },
  sending: { pause: 'paused', cancel: 'cancelled', complete: 'completed' },
  paused: { resume: 'sending', cancel: 'cancelled' },
  completed: {},
  cancelled: {}
}

/** The status `action` leads to from `status`, or null when the status forbids it. */
export function transition (status: CampaignStatus, action: CampaignAction): CampaignStatus | null {
  return TRANSITIONS[status][action] ?? null
}
