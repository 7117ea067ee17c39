import { Type } from 'typebox'
import { errorResponses } from '../schemas/common.js'
import type { App } from '../app-type.js'
import type { WebhooksController } from '../controllers/webhooks.js'
import { DeliveryReportBody, InboundBody, WebhookQuery } from '../schemas/webhooks.js'

export function webhookRoutes (app: App, controller: WebhooksController): void {
  // Infobip's text is recorded as the phone sent it: only characters no database can hold are refused.
  // Authenticated by the secret, not an API key; rate limited only when the secret is wrong (src/plugins/auth.ts).
  const config = { public: true, webhookSecret: controller.hasSecret, textRule: 'storable' as const }
  app.post('/webhooks/infobip/delivery-reports', {
    config,
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
    schema: {
      tags: ['webhooks'],
      summary: "Infobip's inbound SMS: every reply stored; STOP/ARRÊT, START, HELP/AIDE handled",
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
  }, async (request) => await controller.inbound(request.body, request.id))
}
