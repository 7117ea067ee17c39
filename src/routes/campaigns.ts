import type { App } from '../app-type.js'
import type { CampaignsController } from '../controllers/campaigns.js'
import { Campaign, CampaignPreview, CampaignsQuery, CampaignTransition, CreateCampaignBody, TestSendBody, TestSendReport, UpdateCampaignBody } from '../schemas/campaigns.js'
import { errorResponses, IdParams, Page } from '../schemas/common.js'

export function campaignRoutes (app: App, controller: CampaignsController): void {
  const tags = ['campaigns']
  app.post('/campaigns', {
    schema: { tags, summary: 'Create a draft campaign; the message template is checked at once', body: CreateCampaignBody, response: { 201: Campaign, ...errorResponses() } }
  }, async (request, reply) => reply.code(201).send(await controller.create(request.body)))

  app.get('/campaigns', {
    schema: { tags, summary: 'Campaigns, newest first, with their stats', querystring: CampaignsQuery, response: { 200: Page(Campaign), ...errorResponses() } }
  }, async (request) => await controller.list(request.query))

  app.get('/campaigns/:id', {
    schema: { tags, summary: 'One campaign and its stats', params: IdParams, response: { 200: Campaign, ...errorResponses(404) } }
  }, async (request) => await controller.get(request.params.id))

  app.patch('/campaigns/:id', {
    schema: { tags, summary: 'Edit a draft or scheduled campaign', params: IdParams, body: UpdateCampaignBody, response: { 200: Campaign, ...errorResponses(404, 409) } }
  }, async (request) => await controller.update(request.params.id, request.body))

  const transitions = [
    ['launch', 'Launch: sending now, or scheduled when sendAt is still to come', controller.launch],
    ['pause', 'Pause: nothing more is handed over until resumed', controller.pause],
    ['resume', 'Resume a paused campaign', controller.resume],
    ['cancel', 'Cancel: every message not yet handed over is cancelled', controller.cancel]
  ] as const
  for (const [action, summary, handler] of transitions) {
    app.post(`/campaigns/:id/${action}`, {
      schema: { tags, summary, params: IdParams, response: { 202: CampaignTransition, ...errorResponses(404, 409) } }
    }, async (request, reply) => reply.code(202).send(await handler(request.params.id)))
  }

  app.get('/campaigns/:id/preview', {
    schema: { tags, summary: 'Pre-flight report: audience, exclusions by reason, deferrals, samples, segments; sends and writes nothing', params: IdParams, response: { 200: CampaignPreview, ...errorResponses(404) } }
  }, async (request) => await controller.preview(request.params.id))

  app.post('/campaigns/:id/test', {
    schema: { tags, summary: 'Send the rendered message to up to 10 test numbers now (suppression applies; not in stats)', params: IdParams, body: TestSendBody, response: { 200: TestSendReport, ...errorResponses(404) } }
  }, async (request) => await controller.sendTest(request.params.id, request.body.phoneNumbers))
}
