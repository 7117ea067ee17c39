import type { InboundMessagesQuery } from '../schemas/inbound-messages.js'
import type { Inbound } from '../services/inbound.js'

export function createInboundMessagesController (inbound: Inbound) {
  return {
    list: async (query: InboundMessagesQuery) => await inbound.list(query)
  }
}

export type InboundMessagesController = ReturnType<typeof createInboundMessagesController>
