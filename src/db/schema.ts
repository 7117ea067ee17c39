import type { Generated, Insertable, Kysely, Selectable, Updateable } from 'kysely'
import type { CampaignStatus } from '../domain/campaign-status.js'
import type { ConsentEventType } from '../domain/consent.js'
import type { KeywordIntent } from '../domain/keywords.js'

/** Timestamps are ISO-8601 UTC strings on both dialects, so they compare and sort the same everywhere. */
export interface MessagesTable {
  id: string
  to_number: string
  text: string
  sender_id: string | null
  purpose: string
  status: string
  campaign_id: string | null
  contact_id: string | null
  segments: number
  encoding: string
  infobip_message_id: string | null
  bulk_id: string | null
  provider_status: string | null
  error: string | null
  price_amount: number | null
  price_currency: string | null
  decision_reason: string | null
  created_at: string
  updated_at: string
  sent_at: string | null
  done_at: string | null
  due_at: string | null
  priority: Generated<number>
  origin: Generated<MessageOrigin>
  lease_owner: string | null
  lease_expires_at: string | null
  attempted_at: string | null
  attempts: Generated<number>
  outcome_unknown_since: string | null
  valid_until: string | null
}

/** Where a message came from: the API, a reply the service owes, a campaign, or a campaign's test send. */
export type MessageOrigin = 'api' | 'reply' | 'campaign' | 'campaign_test'

export interface CampaignsTable {
  id: string
  name: string
  message: string
  /** JSON `{ tags?: string[], excludeTags?: string[] }` */
  audience: string
  sender_id: string | null
  send_at: string | null
  valid_until: string | null
  status: CampaignStatus
  created_at: string
  updated_at: string
  launched_at: string | null
  completed_at: string | null
}

export interface ThrottleBucketsTable {
  name: string
  tokens: number
  refilled_at_ms: number | string
}

export interface IdempotencyKeysTable {
  key: string
  request_hash: string
  state: string
  response_status: number | null
  response_body: string | null
  created_at: string
  expires_at: string
  message_id: string | null
}

export interface ContactsTable {
  id: string
  phone_number: string
  first_name: string | null
  last_name: string | null
  timezone: string | null
  attributes: string
  subscribed: number
  created_at: string
  updated_at: string
}

export interface ContactTagsTable {
  contact_id: string
  tag: string
}

export interface ConsentEventsTable {
  id: string
  phone_number: string
  contact_id: string | null
  type: ConsentEventType
  source: string
  text: string | null
  ip: string | null
  user_agent: string | null
  keyword: string | null
  occurred_at: string
  recorded_at: string
  /** Who recorded it (API key label, 'infobip-webhook'); null for events recorded before it was kept. */
  recorded_by: string | null
  request_id: string | null
  file_name: string | null
}

export interface InboundMessagesTable {
  id: string
  infobip_message_id: string | null
  phone_number: string
  to_number: string | null
  text: string
  intent: KeywordIntent
  keyword: string | null
  campaign_id: string | null
  consent_event_id: string | null
  received_at: string
  recorded_at: string
}

export interface SuppressionsTable {
  phone_number: string
  reason: string | null
  source: string
  created_at: string
}

export interface Database {
  messages: MessagesTable
  idempotency_keys: IdempotencyKeysTable
  contacts: ContactsTable
  contact_tags: ContactTagsTable
  consent_events: ConsentEventsTable
  suppressions: SuppressionsTable
  inbound_messages: InboundMessagesTable
  campaigns: CampaignsTable
  throttle_buckets: ThrottleBucketsTable
}

export type Db = Kysely<Database>
export type MessageRow = Selectable<MessagesTable>
export type NewMessageRow = Insertable<MessagesTable>
export type MessageRowUpdate = Updateable<MessagesTable>
export type ContactRow = Selectable<ContactsTable>
export type ConsentEventRow = Selectable<ConsentEventsTable>
export type InboundMessageRow = Selectable<InboundMessagesTable>
export type CampaignRow = Selectable<CampaignsTable>
