import type { Config } from '../config.js'
import { withOptOutFooter } from '../domain/footer.js'
import { analyzeSegments, smartEncodingReport, type SegmentInfo } from '../domain/segments.js'
import type { PreviewBody, SendSmsBody } from '../schemas/sms.js'
import { hashRequest, scopedKey, type Idempotency, type StoredResponse } from '../services/idempotency.js'
import { ProviderError } from '../services/provider.js'
import type { SendingService, SendResponse } from '../services/sending.js'
import { AppError, appErrorFromBody, appErrorResponse, type ErrorBody } from '../errors.js'

function counts (info: SegmentInfo) {
  return { encoding: info.encoding, segments: info.segments, characters: info.characters, perSegment: info.perSegment, remainingInSegment: info.remainingInSegment }
}

/**
 * The failures an Idempotency-Key remembers, as the body they were answered with: a refusal the service decided
 * about the message and recorded with it (a compliance 422 — RECIPIENT_OPTED_OUT, NO_CONSENT, QUIET_HOURS,
 * FREQUENCY_CAP — whose suppressed row carries the messageId), and Infobip's refusal (PROVIDER_ERROR). A repeat
 * gets that answer again instead of a second decision that might now send. A 4xx about the request's form (an
 * invalid number, a refused character) records nothing and is not remembered: the key may be retried with a
 * corrected body. Neither is a 503 (circuit open, shutting down), after which nothing was sent.
 */
function rememberedFailure (error: unknown): StoredResponse | null {
  if (!(error instanceof AppError)) return null
  const decided = error instanceof ProviderError ||
    (error.statusCode >= 400 && error.statusCode < 500 && typeof error.details?.messageId === 'string')
  return decided ? { statusCode: error.statusCode, body: appErrorResponse(error).body } : null
}

export function createSmsController ({ sending, idempotency, config }: { sending: SendingService, idempotency: Idempotency, config: Config }) {
  return {
    /**
     * POST /send-sms: the send's answer (200/202), or a thrown AppError. With an Idempotency-Key a repeat gets the
     * first answer (`replayed: true`): the success, or the remembered failure as `failure` (the route throws it,
     * so the error handler answers it exactly as the first time).
     */
    async send (body: SendSmsBody, idempotencyKey: string | undefined, apiKey: string | undefined): Promise<(SendResponse & { replayed: boolean }) | { replayed: true, failure: AppError }> {
      if (idempotencyKey === undefined) return { ...await sending.sendSingle(body), replayed: false }
      const key = scopedKey(apiKey, idempotencyKey)
      const result = await idempotency.run(
        key,
        hashRequest(body),
        async (messageId) => await sending.sendSingle(body, messageId, undefined, key),
        rememberedFailure,
        async (messageId) => await sending.answerFor(messageId)
      )
      if (result.statusCode >= 400) return { replayed: true, failure: appErrorFromBody(result.body as ErrorBody) }
      return result as SendResponse & { replayed: boolean }
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
