/** docs/reliability.md: the results of `npm run prove`, with what each figure means and how it was measured. */
import { cpus } from 'node:os'
import { BASE_SETTINGS, count, median, seconds, type ScenarioResult } from './harness.js'

export interface ReportInput {
  results: ScenarioResult[]
  commit: string
  date: Date
  seed: number
  quick: boolean
  durationMs: number
}

function recovery (values: number[]): string {
  if (values.length === 0) return '—'
  const max = Math.max(...values)
  return values.length === 1 ? seconds(max) : `${seconds(median(values)!)} median, ${seconds(max)} max`
}

export function passed (r: ScenarioResult): boolean {
  return r.failures.length === 0 && r.tally.lost === 0 && r.tally.duplicated === 0 && r.tally.wrongStatus === 0 && (r.leaked ?? 0) === 0
}

export function renderReport (input: ReportInput): string {
  const { results } = input
  const lines: string[] = [
    '# Reliability: what breaks, how often, and what is lost',
    '',
    'Produced by `npm run prove` (never part of `npm test`; see README, *Reliability*). The harness builds `dist/`',
    'and runs the real service (`node dist/server.js`, `NODE_ENV=production`) as child processes against a fake',
    'Infobip in its own process, over real HTTP on 127.0.0.1, on SQLite and on PostgreSQL (a fresh database per',
    'scenario), breaks things on purpose, and compares every record the service kept with what the fake Infobip',
    'says happened to each `messageId`.',
    '',
    '**The guarantee measured** (README, *Reliability*): each recipient gets a campaign\'s message once — no',
    '`kill -9`, restart, Infobip outage, slow Infobip, 429 storm or dropped database connection loses one or sends',
    'one twice (as long as Infobip\'s message logs show an accepted message within `OUTCOME_SETTLE_MS`); every',
    'record ends in the status Infobip reports; a STOP, once answered, stops the campaign to that number and gets',
    'one confirmation; no log line holds a secret or a full phone number.',
    '',
    `**Run:** commit \`${input.commit}\`, ${input.date.toISOString().slice(0, 16).replace('T', ' ')} UTC, seed ${input.seed}` +
      ` (\`PROVE_SEED=${input.seed} npm run prove\` makes the same choices), ${input.quick ? 'quick mode (`PROVE_QUICK=1`), ' : ''}` +
      `${seconds(input.durationMs)} in all, Node ${process.version}, ${cpus().length} cores shared with other work.`,
    '',
    '| scenario | database | runs | messages | lost | duplicated | wrong final status | leaked | time to recover | result |',
    '|---|---|---|---|---|---|---|---|---|---|'
  ]
  for (const r of results) {
    const t = r.tally
    const row = r.runs === 0 && r.failures.length === 0
      ? [r.scenario, r.database, '0', '—', '—', '—', '—', '—', '—', `not run: ${r.note ?? ''}`]
      : [r.scenario, r.database, String(r.runs), count(t.messages), String(t.lost), String(t.duplicated), String(t.wrongStatus), r.leaked === null ? '—' : String(r.leaked), recovery(r.recoverMs), passed(r) ? (r.missed.length > 0 ? 'pass; target missed (below)' : 'pass') : '**FAIL**']
    lines.push(`| ${row.join(' | ')} |`)
  }
  lines.push(
    '',
    '## What the figures mean',
    '',
    '- **messages**: records the service kept for the scenario\'s campaigns (and replies); for the log scan, log lines read.',
    '- **lost**: a recipient who had to get the campaign (subscribed, in the audience, no STOP) and whom the fake Infobip',
    '  never accepted a message for.',
    '- **duplicated**: every SMS beyond the first that one recipient got of one campaign — a `messageId` accepted twice, or',
    '  two `messageId`s for one recipient.',
    '- **wrong final status**: a record that differs from what Infobip said of its `messageId` (its answer, or its',
    '  first final delivery report), a record still `queued`/`sending` at the end, a record claiming a hand-over',
    '  Infobip never saw, or a message Infobip took that the service has no record of.',
    '- **leaked**: a secret or a full phone number found in a log line (scenario 8).',
    '- **time to recover**: from the end of the fault (the kill, with the instance restarted at once; Infobip answering',
    '  again; the database back) to the first message Infobip accepted after it.',
    '',
    '## Scenarios, what was checked, and their settings',
    '',
    `Every service instance ran with ${BASE_SETTINGS}; otherwise defaults (README, *Configuration*) except as listed.`,
    'Contacts were imported with `POST /contacts/import` (consent columns, a time zone where it was early afternoon,',
    'so quiet hours never deferred them); campaigns were created and launched through the API and followed through',
    '`GET /campaigns/:id`.',
    ''
  )
  for (const r of results) {
    lines.push(`### ${r.scenario} — ${r.database}`, '')
    const settings = Object.entries(r.settings).map(([k, v]) => `\`${k}=${v}\``).join(', ')
    if (settings !== '') lines.push(`Settings: ${settings}.`, '')
    for (const check of r.checks) lines.push(`- ${check}`)
    if (r.note !== undefined) lines.push(`- Note: ${r.note}`)
    for (const failure of r.failures) lines.push(`- **Failed:** ${failure}`)
    for (const miss of r.missed) lines.push(`- **Target missed:** ${miss}`)
    for (const example of r.tally.examples) lines.push(`- Example: ${example}`)
    lines.push('')
  }
  return lines.join('\n')
}
