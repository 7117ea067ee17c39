import type { App } from '../app-type.js'
import type { InboundMessagesController } from '../controllers/inbound-messages.js'
import { errorResponses, Page } from '../schemas/common.js'
import { InboundMessage, InboundMessagesQuery } from '../schemas/inbound-messages.js'

export function inboundMessageRoutes (app: App, controller: InboundMessagesController): void {
  app.get('/inbound-messages', {
    schema: {
      tags: ['inbound messages'],
      summary: 'Replies received, keyword or not, newest first, with the intent found and the campaign they most likely answer',
      querystring: InboundMessagesQuery,
      response: { 200: Page(InboundMessage), ...errorResponses() }
    }
  }, async (request) => await controller.list(request.query))
}
