import type { FastifyInstance } from 'fastify'
import { describeTextFault, findTextFault, type TextFault, type TextRule } from '../domain/text.js'
import { AppError } from '../errors.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * `storable`: only characters no database can hold are refused (for Infobip's webhooks, whose
     * text is recorded as the phone sent it). Every other route refuses all control characters but
     * tab, LF and CR, and lone surrogates (src/domain/text.ts).
     */
    textRule?: TextRule
  }
}

/** JSON and query-string objects (the latter have a prototype of their own, without Object's); never a stream (the CSV import's body) or a buffer. */
function isPlainObject (value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return false
  if (typeof (value as { pipe?: unknown }).pipe === 'function') return false
  const prototype = Object.getPrototypeOf(value) as object | null
  return prototype === null || prototype === Object.prototype || Object.getPrototypeOf(prototype) === null
}

/** The first refused character in any string (or object key) of `value`, with its path (`body.results[0].text`). */
function findInValue (root: unknown, rootName: string, rule: TextRule): { path: string, fault: TextFault } | null {
  // Iterative, so a deeply nested body cannot overflow the stack.
  const stack: Array<{ value: unknown, path: string }> = [{ value: root, path: rootName }]
  while (stack.length > 0) {
    const { value, path } = stack.pop()!
    if (typeof value === 'string') {
      const fault = findTextFault(value, rule)
      if (fault !== null) return { path, fault }
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: `${path}[${i}]` })
    } else if (isPlainObject(value)) {
      const keys = Object.keys(value)
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i]!
        const keyFault = findTextFault(key, rule)
        if (keyFault !== null) return { path: `a property name in ${path}`, fault: keyFault }
        stack.push({ value: value[key], path: `${path}.${key}` })
      }
    }
  }
  return null
}

/**
 * Refuses, before validation, any request whose body, query string or path parameters hold a
 * character src/domain/text.ts refuses: 400 INVALID_TEXT naming the field and the position. One
 * rule for every route, present and future, so nothing stored differs from what was sent and no
 * database error can surface as a 500.
 */
export function registerTextGuard (app: FastifyInstance): void {
  app.addHook('preValidation', (request, _reply, done) => {
    const rule = request.routeOptions.config.textRule ?? 'message'
    for (const [part, value] of [['params', request.params], ['querystring', request.query], ['body', request.body]] as const) {
      if (typeof value !== 'string' && !Array.isArray(value) && !isPlainObject(value)) continue
      const found = findInValue(value, part, rule)
      if (found !== null) {
        done(new AppError('INVALID_TEXT', describeTextFault(found.path, found.fault, rule), { position: found.fault.position }))
        return
      }
    }
    done()
  })
}
