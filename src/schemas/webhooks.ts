import { Type, type Static } from 'typebox'

// Lengths bound what is stored to its column (a longer value would fail the insert on PostgreSQL):
// Infobip's names and ids are far shorter.
export const ReportStatus = Type.Object({
  groupId: Type.Optional(Type.Integer()),
  groupName: Type.Optional(Type.String({ maxLength: 64 })),
  id: Type.Optional(Type.Integer()),
  name: Type.Optional(Type.String({ maxLength: 64 })),
  description: Type.Optional(Type.String({ maxLength: 1000 }))
})

export const DeliveryReportBody = Type.Object({
  results: Type.Array(Type.Object({
    messageId: Type.String({ minLength: 1, maxLength: 200 }),
    bulkId: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
    to: Type.Optional(Type.String({ maxLength: 32 })),
    sentAt: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    doneAt: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    price: Type.Optional(Type.Union([Type.Null(), Type.Object({
      pricePerMessage: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
      currency: Type.Optional(Type.Union([Type.String({ maxLength: 8 }), Type.Null()]))
    })])),
    status: ReportStatus,
    error: Type.Optional(Type.Union([Type.Null(), Type.Object({
      groupId: Type.Optional(Type.Integer()),
      groupName: Type.Optional(Type.String({ maxLength: 64 })),
      id: Type.Optional(Type.Integer()),
      name: Type.Optional(Type.String({ maxLength: 64 })),
      description: Type.Optional(Type.String({ maxLength: 1000 })),
      permanent: Type.Optional(Type.Boolean())
    })]))
  }), { maxItems: 1000 })
})
export type DeliveryReportBody = Static<typeof DeliveryReportBody>

export const InboundBody = Type.Object({
  results: Type.Array(Type.Object({
    messageId: Type.Optional(Type.String({ maxLength: 200 })),
    from: Type.String({ minLength: 1, maxLength: 32 }),
    to: Type.Optional(Type.String({ maxLength: 32 })),
    text: Type.Optional(Type.String({ maxLength: 5000 })),
    cleanText: Type.Optional(Type.String({ maxLength: 5000 })),
    keyword: Type.Optional(Type.String({ maxLength: 64 })),
    receivedAt: Type.Optional(Type.String({ maxLength: 64 }))
  }), { maxItems: 1000 }),
  messageCount: Type.Optional(Type.Integer()),
  pendingMessageCount: Type.Optional(Type.Integer())
})
export type InboundBody = Static<typeof InboundBody>

export const WebhookQuery = Type.Object({ token: Type.Optional(Type.String({ maxLength: 500 })) })
