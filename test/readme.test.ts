import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { errorStatus } from '../src/errors.js'

const read = (path: string): string => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8')

describe('README', () => {
  it('lists every error code the service can return', () => {
    const readme = read('README.md')
    const errors = readme.slice(readme.indexOf('## Errors'), readme.indexOf('## Compliance rules'))
    // Services raise AppError codes (typed as the keys of errorStatus); the error handler and the
    // rate limiter answer with Fastify's codes and a few of their own.
    const fromHandlers = ['src/plugins/error-handler.ts', 'src/plugins/security.ts']
      .flatMap((file) => [...read(file).matchAll(/'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'/g)].map((match) => match[1]!))
    const codes = new Set([...Object.keys(errorStatus), ...fromHandlers])
    expect(codes.size).toBeGreaterThan(20)
    expect([...codes].filter((code) => !errors.includes(`\`${code}\``))).toEqual([])
  })

  it('documents every configuration variable, and .env.example lists each', () => {
    const readme = read('README.md')
    const example = read('.env.example')
    const names = [...read('src/config.ts').matchAll(/^ {2}([A-Z][A-Z0-9_]+): Type\./gm)].map((match) => match[1]!)
    expect(names.length).toBeGreaterThan(30)
    expect(names.filter((name) => !readme.includes(name))).toEqual([])
    expect(names.filter((name) => !new RegExp(`^#? ?${name}=`, 'm').test(example))).toEqual([])
  })
})

describe('.env.example and the Docker image', () => {
  it('an env file made from .env.example overrides none of the settings the image makes', () => {
    // docker run --env-file: every NAME=value line overrides the image's ENV, even an empty value.
    const image = Object.fromEntries([...read('Dockerfile').matchAll(/^\s*(?:ENV\s+)?([A-Z_]+)=(\S+?)\s*\\?$/gm)].map((match) => [match[1]!, match[2]!]))
    expect(image).toMatchObject({ NODE_ENV: 'production', DATABASE_URL: 'sqlite:/data/sms.sqlite' })
    const fromFile = Object.fromEntries(read('.env.example').split('\n')
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]))
    for (const [name, value] of Object.entries(image)) {
      if (name in fromFile) expect(`${name}=${fromFile[name]}`).toBe(`${name}=${value}`)
    }
  })
})
