import { describe, expect, it } from 'vitest'
import { CAMPAIGN_ACTIONS, CAMPAIGN_STATUSES, transition, type CampaignAction, type CampaignStatus } from '../../src/domain/campaign-status.js'

// Every (status, action) pair, spelled out: a change to the machine must change this table.
const TABLE: Record<CampaignStatus, Record<CampaignAction, CampaignStatus | null>> = {
  draft: { edit: 'draft', launch: 'sending', schedule: 'scheduled', start: null, pause: null, resume: null, cancel: 'cancelled', complete: null },
  scheduled: { edit: 'scheduled', launch: null, schedule: null, start: 'sending', pause: null, resume: null, cancel: 'cancelled', complete: null },
  sending: { edit: null, launch: null, schedule: null, start: null, pause: 'paused', resume: null, cancel: 'cancelled', complete: 'completed' },
  paused: { edit: null, launch: null, schedule: null, start: null, pause: null, resume: 'sending', cancel: 'cancelled', complete: null },
  completed: { edit: null, launch: null, schedule: null, start: null, pause: null, resume: null, cancel: null, complete: null },
  cancelled: { edit: null, launch: null, schedule: null, start: null, pause: null, resume: null, cancel: null, complete: null }
}

const pairs = CAMPAIGN_STATUSES.flatMap((status) => CAMPAIGN_ACTIONS.map((action) => [status, action, TABLE[status][action]] as const))

describe('transition', () => {
  it('the table covers every status and every action', () => {
    expect(Object.keys(TABLE).sort()).toEqual([...CAMPAIGN_STATUSES].sort())
    for (const status of CAMPAIGN_STATUSES) expect(Object.keys(TABLE[status]).sort()).toEqual([...CAMPAIGN_ACTIONS].sort())
    expect(pairs).toHaveLength(6 * 8)
  })

  it.each(pairs)('%s + %s → %s', (status, action, next) => {
    expect(transition(status, action)).toBe(next)
  })

  it('completed and cancelled are final', () => {
    for (const status of ['completed', 'cancelled'] as const) {
      expect(CAMPAIGN_ACTIONS.map((action) => transition(status, action))).toEqual(CAMPAIGN_ACTIONS.map(() => null))
    }
  })
})
