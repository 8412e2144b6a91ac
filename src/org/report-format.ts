import type { ReportDimension, ReportRow } from './audit-store.ts';

/** `org report` output: an aligned table, CSV (spreadsheet-safe) or JSON. */
export type ReportFormat = 'table' | 'csv' | 'json';

const METRICS = ['requests', 'errors', 'input_tokens', 'output_tokens', 'cost_usd', 'unpriced_requests'] as const;

function metricValues(row: ReportRow): string[] {
  return [String(row.requests), String(row.errors), String(row.inputTokens), String(row.outputTokens), row.costUsd.toFixed(4), String(row.unpricedRequests)];
}

/**
 * A text cell a spreadsheet would run as a formula (leading = + - @, tab or CR) gets a leading `'`
 * (OWASP CSV injection); then RFC 4180 quoting when it holds a comma, quote or line break.
 */
export function csvCell(value: string): string {
  const neutral = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(neutral) ? `"${neutral.replace(/"/g, '""')}"` : neutral;
}

export function formatReport(rows: ReportRow[], by: ReportDimension[], format: ReportFormat): string {
  if (format === 'json') {
    return `${JSON.stringify(rows.map((row) => ({ ...row.keys, requests: row.requests, errors: row.errors, input_tokens: row.inputTokens, output_tokens: row.outputTokens, cost_usd: row.costUsd, unpriced_requests: row.unpricedRequests })), null, 2)}\n`;
  }
  const header = [...by, ...METRICS];
  if (format === 'csv') {
    // Only the dimension cells hold text from laptops; the metric cells are numbers we wrote.
    const lines = rows.map((row) => [...by.map((dimension) => csvCell(row.keys[dimension] ?? '')), ...metricValues(row)].join(','));
    return `${[header.join(','), ...lines].join('\r\n')}\r\n`;
  }
  const printable = (value: string) => value.replace(/[\u0000-\u001f\u007f]/g, '?');
  const table = [header, ...rows.map((row) => [...by.map((dimension) => printable(row.keys[dimension] ?? '')), ...metricValues(row)])];
  const widths = header.map((_, column) => Math.max(...table.map((cells) => cells[column]!.length)));
  const numeric = (column: number) => column >= by.length;
  const lines = table.map((cells) => cells.map((cell, column) => (numeric(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join('  ').trimEnd());
  if (rows.length === 0) lines.push('(no usage in this period)');
  return `${lines.join('\n')}\n`;
}
