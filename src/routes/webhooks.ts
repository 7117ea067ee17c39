import { Type, type Static } from 'typebox'
import type { App } from '../app.js'
import type { WebhooksController } from '../controllers/webhooks.js'
import { errorResponses } from '../schemas.js'

const ReportStatus = Type.Object({
  groupId: Type.Optional(Type.Integer()),
  groupName: Type.Optional(Type.String()),
  id: Type.Optional(Type.Integer()),
  name: Type.Optional(Type.String()),
  description: Type.Optional(Type.String())
})

export const DeliveryReportBody = Type.Object({
  results: Type.Array(Type.Object({
    messageId: Type.String({ minLength: 1, maxLength: 200 }),
    bulkId: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    to: Type.Optional(Type.String()),
    sentAt: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    doneAt: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    price: Type.Optional(Type.Union([Type.Null(), Type.Object({
      pricePerMessage: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
      currency: Type.Optional(Type.Union([Type.String(), Type.Null()]))
    })])),
    status: ReportStatus,
    error: Type.Optional(Type.Union([Type.Null(), Type.Object({
      groupId: Type.Optional(Type.Integer()),
      groupName: Type.Optional(Type.String()),
      id: Type.Optional(Type.Integer()),
      name: Type.Optional(Type.String()),
      description: Type.Optional(Type.String()),
      permanent: Type.Optional(Type.Boolean())
    })]))
  }), { maxItems: 1000 })
})
export type DeliveryReportBody = Static<typeof DeliveryReportBody>

export const InboundBody = Type.Object({
  results: Type.Array(Type.Object({
    messageId: Type.Optional(Type.String()),
    from: Type.String({ minLength: 1, maxLength: 32 }),
    to: Type.Optional(Type.String()),
    text: Type.Optional(Type.String({ maxLength: 5000 })),
    cleanText: Type.Optional(Type.String()),
    keyword: Type.Optional(Type.String()),
    receivedAt: Type.Optional(Type.String())
  }), { maxItems: 1000 }),
  messageCount: Type.Optional(Type.Integer()),
  pendingMessageCount: Type.Optional(Type.Integer())
})
export type InboundBody = Static<typeof InboundBody>

export const WebhookQuery = Type.Object({ token: Type.Optional(Type.String({ maxLength: 500 })) })

export function webhookRoutes (app: App, controller: WebhooksController): void {
  const config = { public: true, rateLimit: false as const }
  app.post('/webhooks/infobip/delivery-reports', {
    config,
    onRequest: controller.authenticate,
    schema: {
      tags: ['webhooks'],
      summary: "Infobip's delivery reports (secret as ?token= or Basic password)",
      security: [],
      querystring: WebhookQuery,
      body: DeliveryReportBody,
      response: { 200: Type.Object({ processed: Type.Integer(), ignored: Type.Integer() }), ...errorResponses() }
    }
  }, async (request) => await controller.deliveryReports(request.body))

  app.post('/webhooks/infobip/inbound', {
    config,
    onRequest: controller.authenticate,
    schema: {
      tags: ['webhooks'],
      summary: "Infobip's inbound SMS: STOP/START/HELP handling",
      security: [],
      querystring: WebhookQuery,
      body: InboundBody,
      response: {
        200: Type.Object({
          processed: Type.Integer(),
          results: Type.Array(Type.Object({ messageId: Type.Union([Type.String(), Type.Null()]), intent: Type.String(), keyword: Type.Union([Type.String(), Type.Null()]) }))
        }),
        ...errorResponses()
      }
    }
  }, async (request) => await controller.inbound(request.body))
}
