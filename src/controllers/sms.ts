import type { Config } from '../config.js'
import { withOptOutFooter } from '../domain/footer.js'
import { analyzeSegments, smartEncodingReport, type SegmentInfo } from '../domain/segments.js'
import type { PreviewBody, SendSmsBody } from '../schemas/sms.js'
import { hashRequest, scopedKey, type Idempotency } from '../services/idempotency.js'
import { ProviderError, type HandoverOutcome } from '../services/provider.js'
import type { SendingService } from '../services/sending.js'
import { errorStatus } from '../errors.js'

function counts (info: SegmentInfo) {
  return { encoding: info.encoding, segments: info.segments, characters: info.characters, perSegment: info.perSegment, remainingInSegment: info.remainingInSegment }
}

export function createSmsController ({ sending, idempotency, config }: { sending: SendingService, idempotency: Idempotency, config: Config }) {
  return {
    async send (body: SendSmsBody, idempotencyKey: string | undefined, apiKey: string | undefined) {
      if (idempotencyKey === undefined) return { ...await sending.sendSingle(body), replayed: false }
      return await idempotency.run(
        scopedKey(apiKey, idempotencyKey),
        hashRequest(body),
        async (messageId) => await sending.sendSingle(body, messageId),
        // Remember Infobip's refusal, so a retry gets the same answer instead of a second attempt.
        (error) => error instanceof ProviderError
          ? { statusCode: errorStatus.PROVIDER_ERROR, body: { statusCode: 502, error: 'Bad Gateway', code: error.code, message: error.message, ...error.details } }
          : null,
        async (messageId) => await sending.answerFor(messageId)
      ).then((result) => {
        if (result.statusCode >= 400) {
          // Replay the remembered failure as it was first answered, provider details included.
          const stored = result.body as { code: string, message: string, providerStatus?: number | null, providerCode?: string | null, outcome?: HandoverOutcome, messageId?: string }
          const replay = new ProviderError(stored.message, 'http', false, stored.providerStatus ?? null, stored.providerCode ?? null, null, stored.outcome)
          throw stored.messageId === undefined ? replay : replay.withDetails({ messageId: stored.messageId })
        }
        return result as { statusCode: 200 | 202, body: Awaited<ReturnType<SendingService['sendSingle']>>['body'], replayed: boolean }
      })
    },

    preview (body: PreviewBody) {
      const text = (body.purpose ?? 'marketing') === 'marketing' ? withOptOutFooter(body.message, config.optOutFooter) : body.message
      const info = analyzeSegments(text)
      const smart = smartEncodingReport(text)
      return {
        ...counts(info),
        nonGsmCharacters: info.nonGsmCharacters,
        text,
        footerApplied: text !== body.message,
        smartEncoding: { ...counts(smart.after), text: smart.text, segmentsSaved: smart.segmentsSaved }
      }
    }
  }
}

export type SmsController = ReturnType<typeof createSmsController>
