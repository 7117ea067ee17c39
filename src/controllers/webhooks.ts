import type { FastifyRequest } from 'fastify'
import { createSecretMatcher } from '../plugins/auth.js'
import type { DeliveryReportBody, InboundBody } from '../schemas/webhooks.js'
import type { DeliveryReports } from '../services/delivery-reports.js'
import type { Inbound } from '../services/inbound.js'

/** The webhook secret arrives as ?token= or as the password of HTTP Basic auth (any user name). */
function presentedSecret (request: FastifyRequest): string | undefined {
  const token = (request.query as { token?: unknown } | undefined)?.token
  if (typeof token === 'string' && token !== '') return token
  const header = request.headers.authorization
  if (header?.startsWith('Basic ') === true) {
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    return colon === -1 ? undefined : decoded.slice(colon + 1)
  }
  return undefined
}

export function createWebhooksController ({ webhookSecret, deliveryReports, inbound }: { webhookSecret: string | undefined, deliveryReports: DeliveryReports, inbound: Inbound }) {
  const matches = createSecretMatcher(webhookSecret === undefined ? [] : [webhookSecret])
  // The rate limiter and the auth hook both ask: one hash and comparison per request.
  const checked = new WeakMap<FastifyRequest, boolean>()
  return {
    /** Whether the request presents WEBHOOK_SECRET (constant-time); never true when none is configured. */
    hasSecret: (request: FastifyRequest): boolean => {
      let presents = checked.get(request)
      if (presents === undefined) {
        presents = matches(presentedSecret(request))
        checked.set(request, presents)
      }
      return presents
    },
    deliveryReports: async (body: DeliveryReportBody) => await deliveryReports.apply(body.results),
    inbound: async (body: InboundBody, requestId: string) => await inbound.receive(body.results, requestId)
  }
}

export type WebhooksController = ReturnType<typeof createWebhooksController>
