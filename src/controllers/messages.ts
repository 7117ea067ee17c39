import type { MessagesQuery } from '../schemas/messages.js'
import type { MessageQueries } from '../services/messages.js'

export function createMessagesController (queries: MessageQueries) {
  return {
    get: async (id: string) => await queries.get(id),
    list: async (query: MessagesQuery) => await queries.list(query)
  }
}

export type MessagesController = ReturnType<typeof createMessagesController>
