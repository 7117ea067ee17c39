import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv'
import formats from 'ajv-formats'
import type { FastifyServerOptions } from 'fastify'

type HttpPart = 'body' | 'querystring' | 'params' | 'headers'

// Fastify's own defaults, minus removeAdditional: an unknown field is refused, never silently dropped.
const BASE: Options = { useDefaults: true, removeAdditional: false, allErrors: false, addUsedSchema: false }

/** A number the query string coerced to Infinity (`limit=Infinity`, `1e400`): Ajv's range keywords skip non-finite values. */
function nonFiniteField (data: unknown): string | null {
  if (data === null || typeof data !== 'object') return null
  for (const [key, value] of Object.entries(data)) {
    const values: unknown[] = Array.isArray(value) ? value : [value]
    if (values.some((v) => typeof v === 'number' && !Number.isFinite(v))) return key
  }
  return null
}

function finiteOnly (validate: ValidateFunction): ValidateFunction {
  const checked = ((data: unknown) => {
    if (!validate(data)) {
      checked.errors = validate.errors
      return false
    }
    const field = nonFiniteField(data)
    if (field !== null) {
      const error: ErrorObject = { instancePath: `/${field}`, schemaPath: '#/type', keyword: 'type', params: {}, message: 'must be a finite number' }
      checked.errors = [error]
      return false
    }
    checked.errors = null
    return true
  }) as ValidateFunction
  return checked
}

/**
 * Fastify's `schemaController`: JSON bodies are validated as sent — `{"destinationNumber": 14155552671}`
 * is a 400, not a string — while query strings, path parameters and headers, which are text on the
 * wire, are coerced (`limit=20` → 20) and must then be finite.
 */
export function schemaController (): NonNullable<FastifyServerOptions['schemaController']> {
  return {
    compilersFactory: {
      buildValidator: (externalSchemas: Record<string, unknown>) => {
        const strict = new Ajv({ ...BASE, coerceTypes: false })
        const coercing = new Ajv({ ...BASE, coerceTypes: 'array' })
        for (const ajv of [strict, coercing]) {
          formats.default(ajv)
          for (const schema of Object.values(externalSchemas)) ajv.addSchema(schema as object)
        }
        const compile = (ajv: Ajv, schema: { $id?: string }): ValidateFunction =>
          (schema.$id !== undefined ? ajv.getSchema(schema.$id) : undefined) ?? ajv.compile(schema)
        return (route: { schema: unknown, httpPart?: string }) => {
          const schema = route.schema as { $id?: string }
          return (route.httpPart as HttpPart | undefined) === 'body'
            ? compile(strict, schema)
            : finiteOnly(compile(coercing, schema))
        }
      }
    }
  }
}
