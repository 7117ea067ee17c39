import { errorResponses } from '../schemas/common.js'
import type { App } from '../app-type.js'
import type { SmsController } from '../controllers/sms.js'
import { PreviewBody, PreviewResponse, SendSmsBody, SendSmsHeaders, SendSmsResponse } from '../schemas/sms.js'

export function smsRoutes (app: App, controller: SmsController): void {
  app.post('/send-sms', {
    schema: {
      tags: ['sending'],
      summary: 'Send one SMS through Infobip',
      body: SendSmsBody,
      headers: SendSmsHeaders,
      response: { 200: SendSmsResponse, 202: SendSmsResponse, ...errorResponses(409, 413, 422, 502, 503) }
    }
  }, async (request, reply) => {
    const result = await controller.send(request.body, request.headers['idempotency-key'], request.apiKey)
    if (result.replayed) reply.header('idempotent-replayed', 'true')
    if ('failure' in result) throw result.failure
    return reply.code(result.statusCode).send(result.body)
  })

  app.post('/sms/preview', {
    schema: {
      tags: ['sending'],
      summary: 'Encoding and segment count of a text, with the footer and smart encoding',
      body: PreviewBody,
      response: { 200: PreviewResponse, ...errorResponses() }
    }
  }, async (request) => controller.preview(request.body))
}
