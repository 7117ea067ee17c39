import { describe, expect, it } from 'vitest'
import { AppError } from '../../src/errors.js'
import { analyzeSegments } from '../../src/domain/segments.js'
import { compileTemplate, renderTemplate, type TemplateFields } from '../../src/domain/templates.js'

const ann: TemplateFields = { firstName: 'Ann', lastName: 'Lee', phoneNumber: '+14155552671', attributes: { city: 'Oakland', tier: 'gold' } }

function render (source: string, fields: TemplateFields = ann): string {
  return renderTemplate(compileTemplate(source), fields)
}

function refusal (source: string): AppError {
  try {
    compileTemplate(source)
  } catch (error) {
    if (error instanceof AppError) return error
    throw error
  }
  throw new Error(`template was accepted: ${source}`)
}

describe('renderTemplate', () => {
  it.each<[name: string, source: string, fields: TemplateFields, expected: string]>([
    ['plain text passes through', 'Sale today', ann, 'Sale today'],
    ['every field', '{{firstName}} {{lastName}} {{phoneNumber}}', ann, 'Ann Lee +14155552671'],
    ['an attribute', 'See you in {{ attributes.city }}', ann, 'See you in Oakland'],
    ['an attribute by index', 'See you in {{ attributes["city"] }}', ann, 'See you in Oakland'],
    ['a missing field renders empty', 'Hi {{firstName}}!', { phoneNumber: '+14155552671' }, 'Hi !'],
    ['a null field renders empty', 'Hi {{firstName}}!', { firstName: null }, 'Hi !'],
    ['a missing attribute renders empty', 'In {{attributes.city}}.', { attributes: {} }, 'In .'],
    ['no attributes at all', 'In {{attributes.city}}.', {}, 'In .'],
    ['fallback for a missing field', 'Hi {{ firstName | default: "there" }}', {}, 'Hi there'],
    ['fallback for an empty field', 'Hi {{ firstName | default: "there" }}', { firstName: '' }, 'Hi there'],
    ['fallback unused when present', 'Hi {{ firstName | default: "there" }}', ann, 'Hi Ann'],
    ['filters', '{{ firstName | upcase }} {{ attributes.tier | capitalize }}', ann, 'ANN Gold'],
    ['conditionals', '{% if attributes.tier == "gold" %}20%{% else %}10%{% endif %} off', ann, '20% off'],
    ['assign and capture are local', '{% assign who = firstName | default: "friend" %}{% capture x %}{{who}}!{% endcapture %}Hi {{x}}', {}, 'Hi friend!'],
    ['no HTML escaping: it is SMS', '{{firstName}} & co <b>', { firstName: 'A&B "Q" <x>' }, 'A&B "Q" <x> & co <b>'],
    ['raw keeps braces', '{% raw %}{{firstName}}{% endraw %}', ann, '{{firstName}}']
  ])('%s', (_name, source, fields, expected) => {
    expect(render(source, fields)).toBe(expected)
  })

  it.each<[name: string, firstName: string, encoding: string, segments: number]>([
    ['a GSM-7 name keeps GSM-7', 'Renée Müller', 'GSM-7', 1],
    ['a Polish name turns the message UCS-2', 'Łukasz', 'UCS-2', 1],
    ['an emoji in a name turns it UCS-2', 'Ann 😀', 'UCS-2', 1],
    ['a Chinese name turns it UCS-2', '王芳', 'UCS-2', 1]
  ])('%s', (_name, firstName, encoding, segments) => {
    const text = render('Hi {{firstName}}, 20% off today', { firstName })
    expect(analyzeSegments(text)).toMatchObject({ encoding, segments })
  })

  it('a non-GSM name pushes a 69-character GSM-7 text past one UCS-2 segment', () => {
    const template = `Hi {{firstName}}! ${'x'.repeat(60)}`
    expect(analyzeSegments(render(template, { firstName: 'Anna' }))).toMatchObject({ encoding: 'GSM-7', segments: 1 })
    expect(analyzeSegments(render(template, { firstName: 'Anną' }))).toMatchObject({ encoding: 'UCS-2', segments: 1 })
    expect(analyzeSegments(render(template, { firstName: 'Anną Marią' }))).toMatchObject({ encoding: 'UCS-2', segments: 2 })
  })

  it('a render that allocates without bound fails instead of exhausting memory', () => {
    const compiled = compileTemplate(`{{ firstName${' | replace: "", "0123456789012345678901234567890123456789"'.repeat(6)} }}`)
    expect(() => renderTemplate(compiled, ann)).toThrow(expect.objectContaining({ code: 'INVALID_TEMPLATE' }))
  })

  it('a message may render to 1600 characters, not one more', () => {
    const compiled = compileTemplate('{{ attributes.text }}')
    expect(renderTemplate(compiled, { attributes: { text: 'x'.repeat(1600) } })).toHaveLength(1600)
    expect(() => renderTemplate(compiled, { attributes: { text: 'x'.repeat(1601) } }))
      .toThrow(expect.objectContaining({ code: 'INVALID_TEMPLATE', message: 'message renders to 1601 characters for this recipient; at most 1600 are allowed' }))
  })
})

describe('compileTemplate', () => {
  it.each<[name: string, source: string, message: string]>([
    ['a typo in a field', 'Hi {{fristName}}', 'unknown variable fristName (line 1, column 6)'],
    ['a field the contacts do not have', 'Hi {{ email }}', 'unknown variable email'],
    ['a property of a field', 'Hi {{ firstName.size }}', 'unknown variable firstName.size'],
    ['attributes as a whole', '{{ attributes }}', 'unknown variable attributes'],
    ['an attribute name no contact can have', '{{ attributes.0 }}', 'unknown variable attributes.0'],
    ['a computed attribute name', '{{ attributes[firstName] }}', 'unknown variable attributes[firstName]'],
    ['a nested attribute', '{{ attributes.city.name }}', 'unknown variable attributes.city.name'],
    ['the line and column of the second line', 'Hi {{firstName}}\n{{ lastname }}', 'unknown variable lastname (line 2, column 4)'],
    ['a typo inside a condition', '{% if tier == "gold" %}x{% endif %}', 'unknown variable tier'],
    ['an unknown filter', 'Hi {{ firstName | shout }}', 'undefined filter: shout'],
    ['an unclosed output', 'Hi {{ firstName', 'not closed'],
    ['an unclosed tag', 'Hi {% if firstName %}x', 'not closed'],
    ['a loop', '{% for i in (1..3) %}{{i}}{% endfor %}', 'tag "for" not found'],
    ['a file include', '{% include "secrets.txt" %}', 'tag "include" not found'],
    ['a render of another file', '{% render "x" %}', 'tag "render" not found']
  ])('refuses %s', (_name, source, message) => {
    const error = refusal(source)
    expect(error.code).toBe('INVALID_TEMPLATE')
    expect(error.statusCode).toBe(400)
    expect(error.message).toContain(message)
  })

  it('names what a template may use', () => {
    expect(refusal('{{ fristName }}').message).toBe(
      'message uses an unknown variable fristName (line 1, column 4); a template may use firstName, lastName, phoneNumber, attributes.<name>')
  })
})
