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

/** The markers in README.md between which a full run writes its one-paragraph summary. */
export const SUMMARY_START = '<!-- prove:summary -->'
export const SUMMARY_END = '<!-- /prove:summary -->'

/**
 * One paragraph for the README's *Reliability* section: the run (commit, date, duration), what was run and counted
 * in all, the totals of lost, duplicated, wrong and leaked, and each timing or rate target missed (or none).
 */
export function renderSummary (input: ReportInput): string {
  const rows = input.results.filter((r) => r.runs > 0)
  const sum = (pick: (r: ScenarioResult) => number, of = rows): number => of.reduce((n, r) => n + pick(r), 0)
  const logs = rows.filter((r) => r.leaked !== null)
  const campaigns = rows.filter((r) => r.leaked === null)
  const failed = rows.filter((r) => !passed(r))
  const missed = rows.flatMap((r) => r.missed.map((m) => `${r.scenario.replace(/\.$/, '')} (${r.database}): ${m.split('. ')[0]!}`))
  const databases = [...new Set(campaigns.map((r) => r.database))].join(' and ')
  return [
    `The latest ${input.quick ? 'quick run (`PROVE_QUICK=1`)' : 'full run'} (commit \`${input.commit}\`, ${input.date.toISOString().slice(0, 10)}, seed ${input.seed}) took`,
    `${(input.durationMs / 60_000).toFixed(1)} min on ${cpus().length} shared cores: ${campaigns.length} scenario rows on ${databases},`,
    `${count(sum((r) => r.runs, campaigns))} runs, ${count(sum((r) => r.tally.messages, campaigns))} messages —`,
    `**${sum((r) => r.tally.lost)} lost, ${sum((r) => r.tally.duplicated)} duplicated, ${sum((r) => r.tally.wrongStatus)} in a wrong final status**,`,
    `and ${sum((r) => r.leaked ?? 0, logs)} secrets or full numbers in ${count(sum((r) => r.tally.messages, logs))} log lines;`,
    failed.length === 0 ? 'every row passed' : `**${failed.length} row(s) failed**: ${failed.map((r) => `${r.scenario} (${r.database})`).join('; ')}`,
    missed.length === 0 ? '; every timing and rate target was met.' : `; targets missed: ${missed.join('; ')}.`
  ].join(' ').replace(/ ;/g, ';')
}

/** `readme` with the text between the summary markers replaced by `summary`; unchanged when the markers are missing. */
export function withSummary (readme: string, summary: string): string {
  const start = readme.indexOf(SUMMARY_START)
  const end = readme.indexOf(SUMMARY_END)
  if (start === -1 || end < start) return readme
  return `${readme.slice(0, start + SUMMARY_START.length)}\n${summary}\n${readme.slice(end)}`
}
