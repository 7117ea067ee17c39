/**
 * The service's public HTTP API as the harness uses it: contacts by CSV import, campaigns, stats, health,
 * metrics and Infobip's webhooks (see README "Using it").
 */
import { setTimeout as sleep } from 'node:timers/promises'

export interface CampaignStats { total: number, queued: number, deferred: number, sending: number, accepted: number, delivered: number, failed: number, suppressed: number, [status: string]: number }
export interface CampaignView { id: string, status: string, stats: CampaignStats }

export class ServiceApi {
  constructor (readonly url: string, private readonly apiKey: string, private readonly webhookSecret: string) {}

  private async request (method: string, path: string, body?: string, contentType = 'application/json'): Promise<{ status: number, body: unknown }> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: { 'x-api-key': this.apiKey, ...(body !== undefined ? { 'content-type': contentType } : {}) },
      ...(body !== undefined ? { body } : {})
    })
    const text = await response.text()
    let parsed: unknown = text
    try { parsed = JSON.parse(text) } catch {}
    return { status: response.status, body: parsed }
  }

  private async expect<T> (status: number, method: string, path: string, body?: string, contentType?: string): Promise<T> {
    const response = await this.request(method, path, body, contentType)
    if (response.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${response.status} ${JSON.stringify(response.body).slice(0, 300)}`)
    return response.body as T
  }

  /** POST /contacts/import with a CSV body; throws unless every row was taken. */
  async importContacts (csv: string, rows: number): Promise<void> {
    const result = await this.expect<{ created: number, updated: number, rejected: unknown[] }>(200, 'POST', '/contacts/import', csv, 'text/csv')
    if (result.created + result.updated !== rows || result.rejected.length > 0) throw new Error(`import took ${result.created + result.updated} of ${rows} rows (${result.rejected.length} rejected)`)
  }

  async createCampaign (name: string, message: string, tag: string): Promise<string> {
    const created = await this.expect<{ id: string }>(201, 'POST', '/campaigns', JSON.stringify({ name, message, audience: { tags: [tag] } }))
    return created.id
  }

  /** POST /campaigns/:id/launch; the HTTP status (202 launched, 409 already launched). */
  async launch (id: string): Promise<number> {
    return (await this.request('POST', `/campaigns/${id}/launch`)).status
  }

  async campaign (id: string): Promise<CampaignView> {
    return await this.expect<CampaignView>(200, 'GET', `/campaigns/${id}`)
  }

  /** How many numbers are on the suppression list (GET /opt-outs, first page of 100). */
  async optOutCount (): Promise<number> {
    return (await this.expect<{ items: unknown[] }>(200, 'GET', '/opt-outs?limit=100')).items.length
  }

  async metrics (): Promise<string> {
    const response = await fetch(`${this.url}/metrics`)
    return await response.text()
  }

  /** GET /health/ready: its status and body. */
  async ready (): Promise<{ status: number, body: { checks?: Record<string, string> } }> {
    const response = await fetch(`${this.url}/health/ready`)
    return { status: response.status, body: await response.json() as { checks?: Record<string, string> } }
  }

  /**
   * POSTs an Infobip webhook body. `auth`: the secret as ?token= (default), as a Basic password, or a wrong one
   * (a forgery) either way.
   */
  async webhook (kind: 'delivery-reports' | 'inbound', body: unknown, auth: 'token' | 'basic' | 'forged-token' | 'forged-basic' | 'none' = 'token'): Promise<{ status: number, body: unknown }> {
    const secret = auth.startsWith('forged') ? `${this.webhookSecret.slice(0, -1)}x` : this.webhookSecret
    const query = auth === 'token' || auth === 'forged-token' ? `?token=${encodeURIComponent(secret)}` : ''
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (auth === 'basic' || auth === 'forged-basic') headers.authorization = `Basic ${Buffer.from(`infobip:${secret}`).toString('base64')}`
    const response = await fetch(`${this.url}/webhooks/infobip/${kind}${query}`, { method: 'POST', headers, body: JSON.stringify(body) })
    const text = await response.text()
    let parsed: unknown = text
    try { parsed = JSON.parse(text) } catch {}
    return { status: response.status, body: parsed }
  }
}

/** A metric's value in Prometheus text (the sum over its label sets matching `labels`), 0 when absent. */
export function metricValue (text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== ' ' && line[name.length] !== '{')) continue
    if (!Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) continue
    sum += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return sum
}

/**
 * Polls GET /campaigns/:id (every 100 ms, through whichever of `apis` answers) until the campaign is completed;
 * throws after `timeoutMs`. A campaign found still a draft (its launch was cut off by a kill) is launched again, as
 * a client would.
 */
export async function waitCompleted (apis: ServiceApi[], id: string, timeoutMs: number): Promise<CampaignView> {
  const deadline = Date.now() + timeoutMs
  let last: CampaignView | null = null
  for (;;) {
    for (const api of apis) {
      try {
        last = await api.campaign(id)
        if (last.status === 'completed') return last
        if (last.status === 'draft') await api.launch(id)
        break
      } catch {
        // That instance is down or restarting: ask the next one, or again shortly.
      }
    }
    if (Date.now() > deadline) throw new Error(`campaign not completed after ${timeoutMs} ms: ${JSON.stringify(last)}`)
    await sleep(100)
  }
}
