import { Type, type Static } from 'typebox'
import type { App } from '../app.js'
import type { MessagesController } from '../controllers/messages.js'
import { Cursor, errorResponses, IdParams, Limit, Message, MessageStatus, Page, PhoneNumber } from '../schemas.js'

export const MessagesQuery = Type.Object({
  status: Type.Optional(MessageStatus),
  campaignId: Type.Optional(Type.String({ minLength: 1, maxLength: 36 })),
  to: Type.Optional(PhoneNumber),
  limit: Limit,
  cursor: Type.Optional(Cursor)
}, { additionalProperties: false })
export type MessagesQuery = Static<typeof MessagesQuery>

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
