// The guide's plain route: Fastify + the Infobip SDK, body schema only, no persistence or compliance.
import { Infobip, AuthType } from '@infobip-api/sdk'
import Fastify from 'fastify'

const infobip = new Infobip({ baseUrl: process.env.INFOBIP_BASE_URL!, apiKey: process.env.INFOBIP_API_KEY!, authType: AuthType.ApiKey })
const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'warn' } })

app.post('/send-sms', {
  schema: {
    body: {
      type: 'object',
      required: ['destinationNumber', 'message'],
      properties: { destinationNumber: { type: 'string' }, message: { type: 'string' } }
    }
  }
}, async (request, reply) => {
  const { destinationNumber, message } = request.body as { destinationNumber: string, message: string }
  const response = await infobip.channels.sms.send({
    type: 'text',
    messages: [{ destinations: [{ to: destinationNumber }], from: 'InfoSMS', text: message }]
  })
  return reply.code(200).send({ message: 'SMS sent successfully', infobipResponse: response.data })
})

await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) })
const address = app.server.address()
process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}` })}\n`)
process.on('SIGTERM', () => { app.close().finally(() => process.exit(0)) })
