import type { DeliveryReport } from './delivery-reports.js'

/** The one interface the rest of the service sees of an SMS provider; Infobip and the sandbox implement it. */

export interface ProviderStatus {
  groupId: number
  groupName: string
  id: number
  name: string
  description?: string
}

export interface ProviderMessage {
  /** Our own message id, sent as destinations[].messageId so delivery reports map straight back. */
  messageId: string
  /** E.164 with the leading +. */
  to: string
  text: string
  from?: string | undefined
  notifyUrl?: string | undefined
}

/** Infobip's own response body for POST /sms/2/text/advanced, passed through untouched. */
export interface ProviderSendResponse {
  bulkId?: string
  messages: Array<{ to: string, messageId: string, status: ProviderStatus, [key: string]: unknown }>
  [key: string]: unknown
}

export type CircuitState = 'closed' | 'open' | 'half-open'

export interface SmsProvider {
  readonly name: 'infobip' | 'sandbox'
  send: (messages: ProviderMessage[]) => Promise<ProviderSendResponse>
  /** What the provider knows of these messages (Infobip's message logs), as delivery reports. */
  lookup: (messageIds: string[]) => Promise<DeliveryReport[]>
  circuitState: () => CircuitState
  /** ms until sending may resume (open circuit, Retry-After hold); 0 when it may send now. */
  pausedForMs: () => number
  close: () => Promise<void>
}
