import type { Db } from '../db/schema.js'
import * as messages from '../db/repositories/messages.js'
import { newId } from '../domain/ids.js'
import { analyzeSegments } from '../domain/segments.js'
import type { Clock } from './clock.js'

export interface SystemReply {
  to: string
  text: string
  from?: string | undefined
  /** Why the service itself sent it, kept on the message record. */
  reason: string
}

/**
 * Replies the service owes a person (opt-out and opt-in confirmations, HELP), written to the outbox with the
 * highest priority (0) and handed over by the dispatcher like everything else, so a confirmation survives a
 * crash. They skip the compliance gate on purpose: the law allows the one confirmation after an opt-out, even to
 * a suppressed number (FCC 24-18; CTIA Messaging Principles §5).
 */
export function createSystemReplies ({ db, clock, wake, defaultFrom }: { db: Db, clock: Clock, wake: () => void, defaultFrom: string | undefined }) {
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
        createdAt: clock.now().toISOString(),
        priority: 0,
        origin: 'reply'
      }])
      wake()
      return id
    }
  }
}

export type SystemReplies = ReturnType<typeof createSystemReplies>
