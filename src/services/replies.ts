import type { Db } from '../db/schema.js'
import * as messages from '../db/repositories/messages.js'
import { newId } from '../domain/ids.js'
import { analyzeSegments } from '../domain/segments.js'
import type { Log } from '../logger.js'
import type { Clock } from './clock.js'
import type { SendQueue } from './send-queue.js'

export interface SystemReply {
  to: string
  text: string
  from?: string | undefined
  /** Why the service itself sent it, kept on the message record. */
  reason: string
}

/**
 * Replies the service owes a person (opt-out and opt-in confirmations, HELP). They skip the compliance
 * gate on purpose: the law allows the one confirmation after an opt-out, even to a suppressed number.
 */
export function createSystemReplies ({ db, clock, queue, log, defaultFrom }: { db: Db, clock: Clock, queue: SendQueue, log: Log, defaultFrom: string | undefined }) {
  return {
    async send (reply: SystemReply): Promise<string> {
      const id = newId()
      const segments = analyzeSegments(reply.text)
      const from = reply.from !== undefined && reply.from !== '' ? reply.from : defaultFrom
      await messages.insertMessages(db, [{
        id,
        to: reply.to,
        text: reply.text,
        senderId: from ?? null,
        purpose: 'transactional',
        status: 'queued',
        segments: segments.segments,
        encoding: segments.encoding,
        decisionReason: reply.reason,
        createdAt: clock.now().toISOString()
      }])
      // Recorded first; the queue records the outcome, so nobody needs to wait for it here.
      queue.submit({ messageId: id, to: reply.to, text: reply.text, ...(from !== undefined ? { from } : {}) })
        .catch((error: unknown) => log.warn({ messageId: id, code: (error as { code?: string }).code }, 'System reply not sent'))
      return id
    }
  }
}

export type SystemReplies = ReturnType<typeof createSystemReplies>
