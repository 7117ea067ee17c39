import { errorResponses, IdParams, Page, Message } from '../schemas/common.js'
import type { App } from '../app-type.js'
import type { MessagesController } from '../controllers/messages.js'
import { MessagesQuery } from '../schemas/messages.js'

export function messageRoutes (app: App, controller: MessagesController): void {
  app.get('/messages/:id', {
    schema: {
      tags: ['messages'],
      summary: 'One message and its delivery status',
      params: IdParams,
      response: { 200: Message, ...errorResponses(404) }
    }
  }, async (request) => controller.get(request.params.id))

  app.get('/messages', {
    schema: {
      tags: ['messages'],
      summary: 'Messages, newest first, filtered and paginated by cursor',
      querystring: MessagesQuery,
      response: { 200: Page(Message), ...errorResponses() }
    }
  }, async (request) => controller.list(request.query))
}
