import type { Db } from '../db/schema.js'
import * as messages from '../db/repositories/messages.js'
import type { Message } from '../db/repositories/messages.js'
import { isId } from '../domain/ids.js'
import type { MessageStatus } from '../domain/message-status.js'
import { mustReadPhoneNumber } from '../domain/phone.js'
import { AppError } from '../errors.js'
import { decodeCursor, page } from './pagination.js'

export interface MessageQuery {
  status?: MessageStatus | undefined
  campaignId?: string | undefined
  to?: string | undefined
  limit: number
  cursor?: string | undefined
}

/** `defaultCountry`: how the `to` filter reads a number written without + (DEFAULT_COUNTRY). */
export function createMessageQueries (db: Db, { defaultCountry }: { defaultCountry: string }) {
  return {
    async get (id: string): Promise<Message> {
      const message = await messages.findMessage(db, id)
      if (message === null) throw new AppError('NOT_FOUND', `Message ${id} not found`)
      return message
    },
    async list (query: MessageQuery): Promise<{ items: Message[], nextCursor: string | null }> {
      const to = query.to === undefined ? undefined : mustReadPhoneNumber(query.to, 'to', { defaultCountry, use: 'lookup' }).e164
      const before = decodeCursor(query.cursor, isId)
      return await page(query.limit, async (limit) => await messages.listMessages(db, {
        status: query.status, campaignId: query.campaignId, to, before, limit
      }), (m) => m.id)
    }
  }
}

export type MessageQueries = ReturnType<typeof createMessageQueries>
