import type { Kysely } from 'kysely'
import type { KeywordIntent } from '../../domain/keywords.js'
import type { Database, InboundMessageRow } from '../schema.js'

type Executor = Kysely<Database>

/** An SMS a person sent us, as received from Infobip, with what the service read in it. */
export interface InboundMessage {
  id: string
  /** Infobip's message id. */
  messageId: string | null
  /** The sender: E.164 when it is a phone number, otherwise as Infobip gave it. */
  phoneNumber: string
  /** Our number or short code it was sent to. */
  to: string | null
  text: string
  intent: KeywordIntent
  keyword: string | null
  /** The campaign of the last message handed over to the number before this one arrived. */
  campaignId: string | null
  /** The consent event a keyword recorded. */
  consentEventId: string | null
  receivedAt: string
  recordedAt: string
}

function toInbound (row: InboundMessageRow): InboundMessage {
  return {
    id: row.id,
    messageId: row.infobip_message_id,
    phoneNumber: row.phone_number,
    to: row.to_number,
    text: row.text,
    intent: row.intent,
    keyword: row.keyword,
    campaignId: row.campaign_id,
    consentEventId: row.consent_event_id,
    receivedAt: row.received_at,
    recordedAt: row.recorded_at
  }
}

export async function insertInboundMessage (db: Executor, message: InboundMessage): Promise<void> {
  await db.insertInto('inbound_messages').values({
    id: message.id,
    infobip_message_id: message.messageId,
    phone_number: message.phoneNumber,
    to_number: message.to,
    text: message.text,
    intent: message.intent,
    keyword: message.keyword,
    campaign_id: message.campaignId,
    consent_event_id: message.consentEventId,
    received_at: message.receivedAt,
    recorded_at: message.recordedAt
  }).execute()
}

/** The stored message with Infobip's id, if a webhook delivered it before. */
export async function findByInfobipId (db: Executor, messageId: string): Promise<InboundMessage | null> {
  const row = await db.selectFrom('inbound_messages').selectAll().where('infobip_message_id', '=', messageId).executeTakeFirst()
  return row === undefined ? null : toInbound(row)
}

export interface InboundFilter {
  phoneNumber?: string | undefined
  campaignId?: string | undefined
  /** Exclusive upper bound on id: ids are time-ordered, newest first. */
  before?: string | undefined
  limit: number
}

export async function listInboundMessages (db: Executor, filter: InboundFilter): Promise<InboundMessage[]> {
  let query = db.selectFrom('inbound_messages').selectAll()
  if (filter.phoneNumber !== undefined) query = query.where('phone_number', '=', filter.phoneNumber)
  if (filter.campaignId !== undefined) query = query.where('campaign_id', '=', filter.campaignId)
  if (filter.before !== undefined) query = query.where('id', '<', filter.before)
  const rows = await query.orderBy('id', 'desc').limit(filter.limit).execute()
  return rows.map(toInbound)
}

/** Erasure: a person's replies go with their profile (keyword replies stay in the consent ledger). */
export async function deleteInboundMessagesFrom (db: Executor, phoneNumber: string): Promise<void> {
  await db.deleteFrom('inbound_messages').where('phone_number', '=', phoneNumber).execute()
}
