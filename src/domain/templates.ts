import { Liquid, type Template } from 'liquidjs'
import { AppError } from '../errors.js'

/**
 * Campaign message templates in Liquid (the language Braze, Customer.io and Shopify speak), parsed
 * once when a campaign is created or edited and rendered per recipient when its message is handed over.
 *
 * - Variables: `firstName`, `lastName`, `phoneNumber` (E.164) and `attributes.<name>`; anything else
 *   (a typo such as `fristName`) is refused at creation, since no contact can ever have it.
 * - A field the contact lacks renders empty; `{{ firstName | default: "there" }}` gives a fallback.
 * - Filters are Liquid's standard ones; an unknown filter is refused at creation.
 * - Tags: conditionals (`if`, `unless`, `case`), `assign`, `capture`, `echo`, `liquid`, `raw` and
 *   comments. Loops and file tags (`for`, `tablerow`, `include`, `render`, `layout`, …) are refused:
 *   an SMS has nothing to iterate, and no template may read the file system.
 * - No HTML escaping: this is SMS text.
 * - One render may allocate at most `RENDER_MEMORY_LIMIT` (LiquidJS's own accounting), so a template
 *   like `{{ firstName | replace: "", "…" | replace: "", "…" }}` fails instead of exhausting memory, and
 *   may produce at most `MAX_RENDERED_LENGTH` characters (before the opt-out footer).
 */

const REFUSED_TAGS = ['for', 'tablerow', 'cycle', 'break', 'continue', 'include', 'render', 'layout', 'block', 'increment', 'decrement'] as const

const RENDER_MEMORY_LIMIT = 100_000
/** The longest text one recipient's message may render to: the API's limit for a message (1600 characters). */
export const MAX_RENDERED_LENGTH = 1600

const ATTRIBUTE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/
const FIELDS = new Set(['firstName', 'lastName', 'phoneNumber'])

const TEMPLATE_VARIABLES = 'firstName, lastName, phoneNumber, attributes.<name>'

function createEngine (): Liquid {
  const engine = new Liquid({
    strictFilters: true,
    strictVariables: false,
    ownPropertyOnly: true,
    memoryLimit: RENDER_MEMORY_LIMIT,
    // Dates render in UTC, whatever the server's zone.
    timezoneOffset: 0,
    // Nothing is ever loaded from disk (the file tags are removed as well).
    templates: {}
  })
  for (const tag of REFUSED_TAGS) Reflect.deleteProperty(engine.tags, tag)
  return engine
}

/** The one engine: configuration only, no per-template state (caching is off). */
const engine = createEngine()

/** A parsed template, ready to render many times. */
export interface CompiledTemplate {
  readonly source: string
  readonly templates: Template[]
}

/** The recipient's fields a template may use; null or missing fields render empty. */
export interface TemplateFields {
  firstName?: string | null | undefined
  lastName?: string | null | undefined
  phoneNumber?: string | null | undefined
  attributes?: Readonly<Record<string, string>> | null | undefined
}

type Segment = string | number | Segment[]

function isAllowed (segments: Segment[]): boolean {
  const [root, name, ...rest] = segments
  if (typeof root !== 'string') return false
  if (FIELDS.has(root)) return segments.length === 1
  return root === 'attributes' && typeof name === 'string' && ATTRIBUTE_NAME.test(name) && rest.length === 0
}

function describe (segments: Segment[]): string {
  return segments.map((s, i) => Array.isArray(s) ? `[${describe(s)}]` : typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`).join('')
}

/**
 * Parses and checks a template.
 * @throws AppError INVALID_TEMPLATE naming the unknown variable (with line and column), the unknown
 *   filter or tag, or the syntax error.
 */
export function compileTemplate (source: string): CompiledTemplate {
  let templates: Template[]
  try {
    templates = engine.parse(source)
  } catch (error) {
    throw new AppError('INVALID_TEMPLATE', `message is not a valid template: ${(error as Error).message}`)
  }
  const analysis = engine.analyzeSync(templates, { partials: false })
  for (const variable of Object.values(analysis.globals).flat()) {
    const segments = variable.toArray()
    if (!isAllowed(segments)) {
      const { row, col } = variable.location
      throw new AppError('INVALID_TEMPLATE',
        `message uses an unknown variable ${describe(segments)} (line ${row}, column ${col}); a template may use ${TEMPLATE_VARIABLES}`)
    }
  }
  return { source, templates }
}

/**
 * Renders a compiled template for one recipient, synchronously (the dispatcher renders every
 * recipient of a batch in turn; about 100,000 renders/s for a typical one-line template).
 * @throws AppError INVALID_TEMPLATE when the render exceeds the memory limit or MAX_RENDERED_LENGTH for
 *   these fields (the message cannot be sent to this recipient).
 */
export function renderTemplate (compiled: CompiledTemplate, fields: TemplateFields): string {
  const scope = {
    firstName: fields.firstName ?? undefined,
    lastName: fields.lastName ?? undefined,
    phoneNumber: fields.phoneNumber ?? undefined,
    attributes: fields.attributes ?? {}
  }
  let text: string
  try {
    text = String(engine.renderSync(compiled.templates, scope))
  } catch (error) {
    throw new AppError('INVALID_TEMPLATE', `message could not be rendered: ${(error as Error).message}`)
  }
  if (text.length > MAX_RENDERED_LENGTH) {
    throw new AppError('INVALID_TEMPLATE', `message renders to ${text.length} characters for this recipient; at most ${MAX_RENDERED_LENGTH} are allowed`)
  }
  return text
}
