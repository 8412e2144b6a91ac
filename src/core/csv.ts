/**
 * CSV for every export (personal usage, the org report): RFC 4180 quoting, and cells that a spreadsheet
 * would run as a formula neutralised as OWASP's CSV-injection guidance says
 * (https://owasp.org/www-community/attacks/CSV_Injection): a text cell starting with `=`, `+`, `-`, `@`,
 * a tab or a carriage return gets a leading apostrophe, and every text cell is quoted. Model names,
 * user agents and user names come from clients; an export must not turn them into live formulas.
 */

export type CsvValue = string | number | boolean | bigint | null | undefined;

const FORMULA_START = /^[=+\-@\t\r]/;

/** One cell: numbers and booleans as they are, text quoted (and defused when it could start a formula). */
export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value !== 'string') return String(value);
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return `"${text.replaceAll('"', '""')}"`;
}

/** A whole CSV document: a header row, then the rows, CRLF line ends (RFC 4180), ending with one. */
export function toCsv(header: readonly string[], rows: Iterable<readonly CsvValue[]>): string {
  const lines = [header.map(csvCell).join(',')];
  for (const row of rows) lines.push(row.map(csvCell).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
