import { Type, type Static } from 'typebox'
import { CAMPAIGN_STATUSES } from '../domain/campaign-status.js'
import { Cursor, Id, Limit, Nullable, PhoneNumber, SenderId } from './common.js'
import { Tags } from './contacts.js'

export const CampaignStatus = Type.Enum(CAMPAIGN_STATUSES)

const Name = Type.String({ minLength: 1, maxLength: 200 })
const Template = Type.String({
  minLength: 1,
  maxLength: 1600,
  description: 'Liquid template: {{firstName}}, {{lastName}}, {{phoneNumber}}, {{attributes.<name>}}, with fallbacks such as {{ firstName | default: "there" }}',
  examples: ['Hi {{ firstName | default: "there" }}, 20% off in {{ attributes.city }} today!']
})
const Instant = Type.String({ format: 'date-time' })

export const Audience = Type.Object({
  tags: Type.Optional(Tags),
  excludeTags: Type.Optional(Tags)
}, { additionalProperties: false, description: 'Contacts with any of tags (none given: every contact), minus contacts with any of excludeTags' })

export const CreateCampaignBody = Type.Object({
  name: Name,
  message: Template,
  audience: Audience,
  senderId: Type.Optional(SenderId),
  sendAt: Type.Optional({ ...Instant, description: 'When to start sending once launched; launching earlier schedules the campaign' }),
  validUntil: Type.Optional({ ...Instant, description: 'A message not handed to Infobip by then becomes expired (default: sendAt, or the launch, + 24 h)' })
}, { additionalProperties: false })
export type CreateCampaignBody = Static<typeof CreateCampaignBody>

export const UpdateCampaignBody = Type.Object({
  name: Type.Optional(Name),
  message: Type.Optional(Template),
  audience: Type.Optional(Audience),
  senderId: Type.Optional(Nullable(SenderId)),
  sendAt: Type.Optional(Nullable(Instant)),
  validUntil: Type.Optional(Nullable(Instant))
}, { additionalProperties: false, minProperties: 1 })
export type UpdateCampaignBody = Static<typeof UpdateCampaignBody>

export const CampaignsQuery = Type.Object({
  status: Type.Optional(CampaignStatus),
  limit: Limit,
  cursor: Type.Optional(Cursor)
}, { additionalProperties: false })
export type CampaignsQuery = Static<typeof CampaignsQuery>

const Count = Type.Integer({ minimum: 0 })

export const CampaignStats = Type.Object({
  total: Count,
  queued: Count,
  deferred: Count,
  sending: Count,
  accepted: Count,
  delivered: Count,
  undeliverable: Count,
  expired: Count,
  rejected: Count,
  failed: Count,
  suppressed: Count,
  cancelled: Count,
  optOuts: Type.Integer({ minimum: 0, description: 'Recipients who opted out within 72 h of being sent this campaign' })
})

export const Campaign = Type.Object({
  id: Id,
  name: Type.String(),
  message: Type.String(),
  audience: Type.Object({ tags: Type.Array(Type.String()), excludeTags: Type.Array(Type.String()) }),
  senderId: Nullable(Type.String()),
  sendAt: Nullable(Type.String()),
  validUntil: Nullable(Type.String({ description: 'Set at launch when not given' })),
  status: CampaignStatus,
  createdAt: Type.String(),
  updatedAt: Type.String(),
  launchedAt: Nullable(Type.String()),
  completedAt: Nullable(Type.String()),
  stats: CampaignStats
})
export type CampaignView = Static<typeof Campaign>

export const CampaignTransition = Type.Object({
  id: Id,
  status: CampaignStatus,
  recipients: Type.Optional(Type.Integer({ minimum: 0, description: 'Outbox rows written by this launch (suppressed ones included)' }))
})

const SegmentCount = Type.Integer({ minimum: 0 })
const Encoding = Type.Union([Type.Literal('GSM-7'), Type.Literal('UCS-2')])

export const CampaignPreview = Type.Object({
  audience: Type.Integer({ description: 'Contacts the audience rule selects: eligible + deferred + every exclusion' }),
  eligible: Type.Integer({ description: 'Would be handed over now' }),
  excluded: Type.Record(Type.String(), Type.Integer(), { description: 'Refused by the compliance gate, by reason code (RECIPIENT_OPTED_OUT, NO_CONSENT, FREQUENCY_CAP, INVALID_TEMPLATE: the message cannot be rendered for the recipient)' }),
  deferred: Type.Integer({ description: 'Outside their quiet-hours window now: sent when it opens (if before validUntil)' }),
  samples: Type.Array(Type.Object({ contactId: Id, text: Type.String(), segments: SegmentCount, encoding: Encoding }), { description: 'The first few messages as they would be sent, footer included' }),
  segments: Type.Object({ min: SegmentCount, max: SegmentCount, total: SegmentCount }, { description: 'Over the eligible and deferred messages: what the campaign will cost' }),
  encoding: Type.Union([Encoding, Type.Null()], { description: 'UCS-2 when any message needs it; null when nothing would be sent' })
})

export const TestSendBody = Type.Object({
  phoneNumbers: Type.Array(PhoneNumber, { minItems: 1, maxItems: 10, uniqueItems: true })
}, { additionalProperties: false })
export type TestSendBody = Static<typeof TestSendBody>

export const TestSendReport = Type.Object({
  results: Type.Array(Type.Object({
    phoneNumber: Type.String(),
    messageId: Nullable(Type.String()),
    status: Type.String({ description: 'The message status (accepted, …), or suppressed / failed when it was not sent' }),
    code: Nullable(Type.String({ description: 'Why it was not sent, e.g. RECIPIENT_OPTED_OUT' })),
    error: Nullable(Type.String())
  }))
})
