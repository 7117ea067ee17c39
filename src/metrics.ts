import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { CircuitState } from './services/provider.js'

const circuitValue: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 }

/** One registry per app instance, so several apps (tests) never share counters. */
export function createMetrics () {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const metrics = {
    registry,
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry]
    }),
    providerCalls: new Counter({
      name: 'sms_provider_calls_total',
      help: 'Requests sent to the SMS provider, by outcome',
      labelNames: ['outcome'] as const,
      registers: [registry]
    }),
    providerFailures: new Counter({
      name: 'sms_provider_failures_total',
      help: 'Failed provider requests, by kind',
      labelNames: ['kind'] as const,
      registers: [registry]
    }),
    circuitState: new Gauge({
      name: 'sms_provider_circuit_state',
      help: 'Provider circuit breaker: 0 closed, 1 half-open, 2 open',
      registers: [registry]
    }),
    messagesByStatus: new Gauge({
      name: 'sms_messages',
      help: 'Recorded messages by status',
      labelNames: ['status'] as const,
      registers: [registry]
    }),
    messagesSent: new Counter({
      name: 'sms_messages_sent_total',
      help: 'Messages handed to the provider',
      registers: [registry]
    }),
    dispatchQueueDepth: new Gauge({
      name: 'sms_dispatch_queue_depth',
      help: 'Messages waiting to be handed to the provider',
      registers: [registry]
    }),
    dispatchLag: new Histogram({
      name: 'sms_dispatch_lag_seconds',
      help: 'Time from a message being due to its claim for hand-over',
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 3600],
      registers: [registry]
    }),
    outboxDepth: new Gauge({
      name: 'sms_outbox_depth',
      help: 'Outbox rows not yet final, by status (queued, deferred, sending)',
      labelNames: ['status'] as const,
      registers: [registry]
    }),
    campaignProgress: new Gauge({
      name: 'sms_campaign_progress_ratio',
      help: 'Share of a sending campaign\'s messages that reached a final status',
      labelNames: ['campaign'] as const,
      registers: [registry]
    }),
    complianceDecisions: new Counter({
      name: 'sms_compliance_decisions_total',
      help: 'Compliance gate decisions by outcome and reason',
      labelNames: ['outcome', 'reason'] as const,
      registers: [registry]
    }),
    setCircuitState (state: CircuitState): void {
      metrics.circuitState.set(circuitValue[state])
    }
  }
  return metrics
}

export type Metrics = ReturnType<typeof createMetrics>
