/**
 * The contacts CSV the import benchmark uploads and its baseline parses: a header and `rows` rows of
 * valid NANP numbers across five area codes, names, two tags, a time zone, and consent evidence (a
 * quoted text holding a comma) on nine rows in ten — about 130 bytes a row. `firstSubscriber`: the
 * seven-digit subscriber part of the first number (each row adds one), so that two files can hold
 * different numbers.
 */
export function * contactsCsvLines (rows: number, firstSubscriber = 2_000_000): Generator<string> {
  yield 'phoneNumber,firstName,lastName,tags,timezone,consentSource,consentText,consentAt\n'
  for (let i = 0; i < rows; i++) {
    const area = [212, 305, 415, 512, 617][i % 5]
    const number = `+1${area}${String(firstSubscriber + i).padStart(7, '0')}`
    const consent = i % 10 === 0 ? ',,,' : ',web_form,"Yes, text me offers. Reply STOP to cancel.",2026-06-01T12:00:00Z'
    yield `${number},First${i},Last${i},vip;spring,America/New_York${consent}\n`
  }
}

/** How `curl --data-binary @file` and browsers send a file: with a Content-Length, in pieces of 64 KiB. */
export const FILE_PIECE_BYTES = 64 * 1024

/** The same CSV as one file's bytes, cut into the pieces a file upload sends (FILE_PIECE_BYTES each, the last shorter). */
export function contactsCsvFilePieces (rows: number): Buffer[] {
  const file = Buffer.from([...contactsCsvLines(rows)].join(''), 'utf8')
  const pieces: Buffer[] = []
  for (let offset = 0; offset < file.length; offset += FILE_PIECE_BYTES) pieces.push(file.subarray(offset, offset + FILE_PIECE_BYTES))
  return pieces
}
