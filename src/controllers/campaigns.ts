import type { CampaignsQuery, CreateCampaignBody, UpdateCampaignBody } from '../schemas/campaigns.js'
import type { CampaignsService } from '../services/campaigns.js'

export function createCampaignsController (campaigns: CampaignsService) {
  return {
    create: async (body: CreateCampaignBody) => await campaigns.create(body),
    list: async (query: CampaignsQuery) => await campaigns.list(query),
    get: async (id: string) => await campaigns.get(id),
    update: async (id: string, body: UpdateCampaignBody) => await campaigns.update(id, body),
    launch: async (id: string) => await campaigns.launch(id),
    pause: async (id: string) => await campaigns.pause(id),
    resume: async (id: string) => await campaigns.resume(id),
    cancel: async (id: string) => await campaigns.cancel(id),
    preview: async (id: string) => await campaigns.preview(id),
    sendTest: async (id: string, phoneNumbers: string[]) => await campaigns.sendTest(id, phoneNumbers)
  }
}

export type CampaignsController = ReturnType<typeof createCampaignsController>
