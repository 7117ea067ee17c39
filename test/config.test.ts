import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig, startupWarnings } from '../src/config.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')

const PRODUCTION = {
  NODE_ENV: 'production',
  INFOBIP_BASE_URL: 'https://xyz.api.infobip.com',
  INFOBIP_API_KEY: 'infobip-key-0123456789',
  API_KEYS: 'client-key-0123456789',
  WEBHOOK_SECRET: 'webhook-secret-0123456789abcdef'
}

function configError (env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    const message = (error as ConfigError).message
    expect(message).not.toContain('\n')
    return error as ConfigError
  }
  throw new Error('loadConfig did not throw')
}

describe('loadConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    const config = loadConfig({})
    expect(config).toEqual({
      env: 'development',
      isProduction: false,
      host: '0.0.0.0',
      port: 3000,
      logLevel: 'info',
      infobip: null,
      senderId: undefined,
      provider: {
        timeoutMs: 10_000,
        retry: { retries: 3, minDelayMs: 1000, maxDelayMs: 5000 },
        retryAfterMaxMs: 60_000,
        idempotency: false,
        outcomeSettleMs: 20_000,
        circuit: { errorThresholdPercentage: 50, volumeThreshold: 3, consecutiveFailures: 5, windowMs: 2000, resetTimeoutMs: 10_000 }
      },
      apiKeys: [],
      webhookSecret: undefined,
      publicBaseUrl: undefined,
      databaseUrl: 'sqlite:./data/sms.sqlite',
      rateLimit: { max: 100, timeWindow: '1 minute' },
      sendRatePerSecond: 50,
      sendBatchSize: 500,
      sendConcurrency: 4,
      quietHours: expect.anything(),
      defaultTimeZone: 'America/New_York',
      defaultCountry: 'US',
      marketingConsentRequired: true,
      brandName: 'Our Brand',
      supportContact: undefined,
      optOutFooter: 'Reply STOP to opt out.',
      bodyLimitBytes: 1024 * 1024,
      importLimitBytes: 100 * 1024 * 1024,
      shutdownGraceMs: 10_000,
      dispatch: { leaseMs: 30_000 }
    })
    expect(config.quietHours).toEqual(loadConfig({ QUIET_HOURS: '08:00-21:00' }).quietHours)
    expect(config.quietHours).not.toEqual(loadConfig({ QUIET_HOURS: '09:00-20:00' }).quietHours)
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.provider.retry)).toBe(true)
  })

  it('converts and trims values, and treats empty strings as unset', () => {
    const config = loadConfig({
      PORT: ' 8080 ',
      RETRY_ATTEMPTS: '0',
      MARKETING_CONSENT_REQUIRED: 'false',
      SEND_RATE_PER_SECOND: '2.5',
      API_KEYS: ' key-one , key-two ,',
      INFOBIP_SENDER_ID: '',
      PUBLIC_BASE_URL: 'https://sms.example.com//'
    })
    expect(config.port).toBe(8080)
    expect(config.provider.retry.retries).toBe(0)
    expect(config.marketingConsentRequired).toBe(false)
    expect(config.sendRatePerSecond).toBe(2.5)
    expect(config.apiKeys).toEqual(['key-one', 'key-two'])
    expect(config.senderId).toBeUndefined()
    expect(config.publicBaseUrl).toBe('https://sms.example.com')
  })

  it('selects the sandbox when both Infobip variables are unset outside production', () => {
    expect(loadConfig({ NODE_ENV: 'development' }).infobip).toBeNull()
    expect(loadConfig({ NODE_ENV: 'test', INFOBIP_BASE_URL: '', INFOBIP_API_KEY: '  ' }).infobip).toBeNull()
  })

  it('uses Infobip when both are set', () => {
    expect(loadConfig({ INFOBIP_BASE_URL: 'https://xyz.api.infobip.com', INFOBIP_API_KEY: 'k' }).infobip).toEqual({ baseUrl: 'https://xyz.api.infobip.com', apiKey: 'k' })
  })

  it.each([
    ['xyz.api.infobip.com', 'https://xyz.api.infobip.com'],
    ['xyz.api.infobip.com/', 'https://xyz.api.infobip.com'],
    ['HTTPS://xyz.api.infobip.com', 'https://xyz.api.infobip.com'],
    ['http://127.0.0.1:8080/', 'http://127.0.0.1:8080'],
    ['https://xyz.api.infobip.com/base//', 'https://xyz.api.infobip.com/base']
  ])('normalises INFOBIP_BASE_URL %j to %j', (raw, expected) => {
    expect(loadConfig({ INFOBIP_BASE_URL: raw, INFOBIP_API_KEY: 'k' }).infobip?.baseUrl).toBe(expected)
  })

  it('refuses an INFOBIP_BASE_URL that is not a URL, naming it', () => {
    expect(configError({ INFOBIP_BASE_URL: 'https://exa mple.com', INFOBIP_API_KEY: 'k' }).message).toContain('INFOBIP_BASE_URL')
    expect(configError({ INFOBIP_BASE_URL: 'ftp://example.com', INFOBIP_API_KEY: 'k' }).message).toContain('INFOBIP_BASE_URL')
    expect(configError({ INFOBIP_BASE_URL: 'https://', INFOBIP_API_KEY: 'k' }).message).toContain('INFOBIP_BASE_URL')
  })

  it('names the missing half when only one of INFOBIP_BASE_URL / INFOBIP_API_KEY is set', () => {
    expect(configError({ INFOBIP_BASE_URL: 'https://xyz.api.infobip.com' }).message)
      .toBe('Invalid configuration: INFOBIP_API_KEY is required when INFOBIP_BASE_URL is set')
    expect(configError({ INFOBIP_API_KEY: 'k' }).message)
      .toBe('Invalid configuration: INFOBIP_BASE_URL is required when INFOBIP_API_KEY is set')
  })

  it('accepts a complete production configuration', () => {
    const config = loadConfig(PRODUCTION)
    expect(config.isProduction).toBe(true)
    expect(config.infobip).toEqual({ baseUrl: 'https://xyz.api.infobip.com', apiKey: 'infobip-key-0123456789' })
    expect(config.apiKeys).toEqual(['client-key-0123456789'])
    expect(config.webhookSecret).toBe('webhook-secret-0123456789abcdef')
  })

  it.each(['API_KEYS', 'WEBHOOK_SECRET'] as const)('refuses production without %s, naming it', (name) => {
    const error = configError({ ...PRODUCTION, [name]: undefined })
    expect(error.message).toBe(`Invalid configuration: ${name} is required when NODE_ENV=production`)
    // The message names the variable, never a secret value.
    for (const value of Object.values(PRODUCTION)) if (value !== 'production') expect(error.message).not.toContain(value)
  })

  it('refuses production without Infobip credentials (no sandbox in production), naming INFOBIP_BASE_URL', () => {
    const error = configError({ ...PRODUCTION, INFOBIP_BASE_URL: undefined, INFOBIP_API_KEY: undefined })
    expect(error.message).toBe('Invalid configuration: INFOBIP_BASE_URL is required when NODE_ENV=production')
    expect(configError({ ...PRODUCTION, INFOBIP_BASE_URL: '', INFOBIP_API_KEY: '' }).message).toBe(error.message)
  })

  it('refuses production with only one Infobip variable, naming the other', () => {
    expect(configError({ ...PRODUCTION, INFOBIP_API_KEY: '' }).message).toContain('INFOBIP_API_KEY')
    expect(configError({ ...PRODUCTION, INFOBIP_BASE_URL: '' }).message).toContain('INFOBIP_BASE_URL')
  })

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '3000.5'],
    ['PORT', '-1'],
    ['PORT', 'true'],
    ['PORT', '0x10'],
    ['RETRY_ATTEMPTS', '2.5'],
    ['SEND_RATE_PER_SECOND', 'fast'],
    ['NODE_ENV', 'staging'],
    ['LOG_LEVEL', 'loud'],
    ['INFOBIP_TIMEOUT_MS', '10'],
    ['RETRY_ATTEMPTS', 'many'],
    ['DATABASE_URL', 'mysql://db'],
    ['PUBLIC_BASE_URL', 'sms.example.com'],
    ['WEBHOOK_SECRET', 'short'],
    ['SEND_RATE_PER_SECOND', '0'],
    ['RATE_LIMIT_MAX', '0'],
    ['MARKETING_CONSENT_REQUIRED', 'maybe'],
    ['BODY_LIMIT_BYTES', '10'],
    ['QUIET_HOURS', '8-21'],
    ['DEFAULT_TIMEZONE', 'Mars/Olympus_Mons'],
    ['DEFAULT_COUNTRY', 'USA'],
    ['DEFAULT_COUNTRY', 'XX']
  ])('an invalid %s (%j) throws a ConfigError naming it', (name, value) => {
    const error = configError({ [name]: value })
    expect(error.message).toMatch(/^Invalid configuration: /)
    expect(error.message).toContain(name)
  })

  it('refuses RETRY_MIN_DELAY_MS above RETRY_MAX_DELAY_MS, naming it', () => {
    expect(configError({ RETRY_MIN_DELAY_MS: '6000', RETRY_MAX_DELAY_MS: '5000' }).message).toContain('RETRY_MIN_DELAY_MS')
  })

  it('reads the hand-over settings: RETRY_AFTER_MAX_MS, INFOBIP_IDEMPOTENCY, OUTCOME_SETTLE_MS, CIRCUIT_WINDOW_MS', () => {
    const config = loadConfig({ RETRY_AFTER_MAX_MS: '0', INFOBIP_IDEMPOTENCY: 'true', OUTCOME_SETTLE_MS: '1500', CIRCUIT_WINDOW_MS: '5000' })
    expect(config.provider).toMatchObject({ retryAfterMaxMs: 0, idempotency: true, outcomeSettleMs: 1500, circuit: { windowMs: 5000 } })
  })

  it.each([
    [{}, 20_000],
    [{ INFOBIP_TIMEOUT_MS: '1000' }, 5000],
    [{ INFOBIP_TIMEOUT_MS: '2500' }, 5000],
    [{ INFOBIP_TIMEOUT_MS: '2501' }, 5002],
    [{ INFOBIP_TIMEOUT_MS: '30000' }, 60_000],
    [{ INFOBIP_TIMEOUT_MS: '30000', OUTCOME_SETTLE_MS: '0' }, 0]
  ])('OUTCOME_SETTLE_MS defaults to twice the timeout, at least 5 s: %j → %i', (env, expected) => {
    expect(loadConfig(env).provider.outcomeSettleMs).toBe(expected)
  })

  it.each([
    ['RETRY_AFTER_MAX_MS', '-1'],
    ['RETRY_AFTER_MAX_MS', 'soon'],
    ['INFOBIP_IDEMPOTENCY', 'maybe'],
    ['OUTCOME_SETTLE_MS', '1.5'],
    ['CIRCUIT_WINDOW_MS', '50'],
    ['CIRCUIT_ERROR_THRESHOLD', '100']
  ])('an invalid %s (%j) throws a ConfigError naming it', (name, value) => {
    expect(configError({ [name]: value }).message).toContain(name)
  })

  it('refuses a CIRCUIT_WINDOW_MS longer than CIRCUIT_RESET_MS, naming it', () => {
    expect(configError({ CIRCUIT_WINDOW_MS: '20000', CIRCUIT_RESET_MS: '10000' }).message)
      .toBe('Invalid configuration: CIRCUIT_WINDOW_MS must not exceed CIRCUIT_RESET_MS')
  })

  it('refuses API_KEYS that hold no key', () => {
    expect(configError({ API_KEYS: ' , ,' }).message).toContain('API_KEYS')
  })

  it('reads DEFAULT_COUNTRY in either case', () => {
    expect(loadConfig({ DEFAULT_COUNTRY: 'gb' }).defaultCountry).toBe('GB')
    expect(loadConfig({ DEFAULT_COUNTRY: 'CA' }).defaultCountry).toBe('CA')
  })
})

describe('startupWarnings', () => {
  const complete = { WEBHOOK_SECRET: 'webhook-secret-0123456789abcdef', BRAND_NAME: 'Acme Deals', SUPPORT_CONTACT: 'help@acme.example' }
  it('warns that STOPs cannot arrive without WEBHOOK_SECRET, and of the default BRAND_NAME', () => {
    expect(startupWarnings(loadConfig({}))).toEqual([
      'WEBHOOK_SECRET is not set: Infobip webhooks are refused with 401, so STOP replies cannot arrive and opt-outs by SMS are lost',
      'BRAND_NAME is not set: HELP and STOP replies and the opt-out footer name the sender as "Our Brand"'
    ])
  })

  it('warns of a missing SUPPORT_CONTACT in production only', () => {
    const { SUPPORT_CONTACT: _omitted, ...withoutSupport } = complete
    expect(startupWarnings(loadConfig(withoutSupport))).toEqual([])
    expect(startupWarnings(loadConfig({ ...PRODUCTION, ...withoutSupport }))).toEqual(['SUPPORT_CONTACT is not set: HELP replies give no way to reach support'])
    expect(startupWarnings(loadConfig({ ...PRODUCTION, ...complete }))).toEqual([])
  })
})

describe('startup with an invalid configuration', () => {
  it('exits 1 with one line on stderr naming the variable', async () => {
    // An empty working directory: dotenv finds no .env, so the process sees only this environment.
    const cwd = mkdtempSync(join(tmpdir(), 'sms-config-'))
    try {
      const tsx = join(ROOT, 'node_modules', '.bin', 'tsx')
      const child = spawn(tsx, [join(ROOT, 'src', 'server.ts')], {
        cwd,
        // PATH only so that tsx can find node; nothing the service reads.
        env: { NODE_ENV: 'production', PATH: process.env.PATH ?? '' },
        stdio: ['ignore', 'pipe', 'pipe']
      })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString('utf8') })
      child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8') })
      const code = await new Promise<number | null>((resolve, reject) => {
        const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`server did not exit; stderr: ${stderr}`)) }, 15_000)
        child.once('error', reject)
        child.once('exit', (exitCode) => { clearTimeout(timer); resolve(exitCode) })
      })
      expect(code).toBe(1)
      expect(stdout).toBe('')
      expect(stderr).toBe('Invalid configuration: INFOBIP_BASE_URL is required when NODE_ENV=production\n')
    } finally {
      rmSync(cwd, { recursive: true, force: true })
    }
  }, 20_000)
})
