import { Type } from 'typebox'

export const CircuitState = Type.Union([Type.Literal('closed'), Type.Literal('open'), Type.Literal('half-open')])
export const Readiness = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  checks: Type.Object({
    database: Type.Union([Type.Literal('ok'), Type.Literal('error')]),
    provider: CircuitState,
    dispatcher: Type.Union([Type.Literal('running'), Type.Literal('stopped'), Type.Literal('stalled')], { description: 'The outbox dispatcher of this instance' }),
    shuttingDown: Type.Boolean()
  })
})
