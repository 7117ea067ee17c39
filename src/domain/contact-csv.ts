import { CsvTokenizer } from './csv.js'

/**
 * What a contacts CSV may hold, and how its header row is read: loosely, as people and spreadsheets
 * name columns ("Phone Number", "phone", "MOBILE", "first_name", "First Name"). Pure.
 */

/** The contact fields an import reads, by their API names. */
export const IMPORT_COLUMNS = [
  'phoneNumber',
  'firstName',
  'lastName',
  'tags',
  'timezone',
  'consentSource',
  'consentText',
  'consentAt',
  'consentIp',
  'consentUserAgent'
] as const
export type ImportColumn = typeof IMPORT_COLUMNS[number]

// Header names compared after normalizeHeader(). Consent columns match only explicit names: a CRM's
// "Source" column is where a lead came from, not evidence of consent.
const ALIASES: Record<ImportColumn, readonly string[]> = {
  phoneNumber: ['phonenumber', 'phone', 'phoneno', 'mobile', 'mobilenumber', 'mobilephone', 'mobilephonenumber', 'cell', 'cellphone', 'cellnumber', 'msisdn', 'telephone', 'telephonenumber', 'tel', 'number', 'smsnumber', 'destinationnumber'],
  firstName: ['firstname', 'first', 'givenname', 'forename', 'fname'],
  lastName: ['lastname', 'last', 'surname', 'familyname', 'lname'],
  tags: ['tags', 'tag', 'labels', 'label'],
  timezone: ['timezone', 'tz'],
  consentSource: ['consentsource', 'optinsource'],
  consentText: ['consenttext', 'optintext', 'consentdisclosure'],
  consentAt: ['consentat', 'consentdate', 'consenttime', 'consentdatetime', 'consentedat', 'optinat', 'optindate', 'optedinat'],
  consentIp: ['consentip', 'consentipaddress', 'optinip'],
  consentUserAgent: ['consentuseragent', 'optinuseragent']
}

const BY_ALIAS = new Map<string, ImportColumn>(
  IMPORT_COLUMNS.flatMap((column) => ALIASES[column].map((alias) => [alias, column] as const))
)

/** "Phone Number", "phone_number", "PHONE-NUMBER", "Phone №" → "phonenumber". */
export function normalizeHeader (name: string): string {
  return name.normalize('NFKC').toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '')
}

export function columnFor (name: string): ImportColumn | null {
  return BY_ALIAS.get(normalizeHeader(name)) ?? null
}

export interface HeaderMapping {
  /** The contact field of each column, by position; null for a column that is ignored. */
  columns: Array<ImportColumn | null>
  /** Columns that are not contact fields, by 1-based position, with their name as written. */
  unknown: Array<{ position: number, name: string }>
  /** Contact fields named by more than one column (which one to read is a guess, so it is refused). */
  conflicts: Array<{ column: ImportColumn, positions: number[] }>
}

export function mapHeader (names: readonly string[]): HeaderMapping {
  const columns: Array<ImportColumn | null> = []
  const unknown: HeaderMapping['unknown'] = []
  const positions = new Map<ImportColumn, number[]>()
  names.forEach((name, index) => {
    const column = columnFor(name)
    columns.push(column)
    if (column === null) {
      if (name.trim() !== '') unknown.push({ position: index + 1, name })
      return
    }
    positions.set(column, [...(positions.get(column) ?? []), index + 1])
  })
  const conflicts = [...positions].filter(([, at]) => at.length > 1).map(([column, at]) => ({ column, positions: at }))
  return { columns, unknown, conflicts }
}

export const DELIMITERS = [',', ';', '\t'] as const

/**
 * The delimiter of a CSV from its header line: the one under which the most header names are
 * contact fields, then the one giving the most columns, then comma. European Excel writes `;`,
 * "Unicode text" exports use tab. An Excel `sep=;` first line names it outright (see readSepLine).
 */
export function detectDelimiter (headerLine: string): string {
  let best: { delimiter: string, known: number, fields: number } = { delimiter: ',', known: -1, fields: 0 }
  for (const delimiter of DELIMITERS) {
    const tokenizer = new CsvTokenizer({ delimiter, maxRecordChars: headerLine.length + 1 })
    const first = [...tokenizer.push(headerLine), ...tokenizer.end()][0]
    if (first?.kind !== 'record') continue
    const known = first.fields.filter((name) => columnFor(name) !== null).length
    if (known > best.known || (known === best.known && first.fields.length > best.fields)) {
      best = { delimiter, known, fields: first.fields.length }
    }
  }
  return best.delimiter
}

/** Excel's delimiter hint, a first line `sep=;`: the delimiter it names, or null. */
export function readSepLine (line: string): string | null {
  const match = /^"?sep=(.)"?\s*$/i.exec(line)
  return match !== null ? match[1]! : null
}
