import { escapeControlCharacters } from '../core/client-text.ts';
import { toCsv } from '../core/csv.ts';
import type { ReportDimension, ReportRow } from './audit-store.ts';

/** `org report` output: an aligned table, CSV (spreadsheet-safe, src/core/csv.ts) or JSON. */
export type ReportFormat = 'table' | 'csv' | 'json';

const METRICS = ['requests', 'errors', 'input_tokens', 'output_tokens', 'cost_usd', 'unpriced_requests'] as const;

export function formatReport(rows: ReportRow[], by: ReportDimension[], format: ReportFormat): string {
  if (format === 'json') {
    return `${JSON.stringify(rows.map((row) => ({ ...row.keys, requests: row.requests, errors: row.errors, input_tokens: row.inputTokens, output_tokens: row.outputTokens, cost_usd: row.costUsd, unpriced_requests: row.unpricedRequests })), null, 2)}\n`;
  }
  const header = [...by, ...METRICS];
  if (format === 'csv') {
    return toCsv(header, rows.map((row) => [...by.map((dimension) => row.keys[dimension] ?? ''), row.requests, row.errors, row.inputTokens, row.outputTokens, Number(row.costUsd.toFixed(6)), row.unpricedRequests]));
  }
  // Names, models and clients come from laptops: control characters are shown escaped, never sent to the terminal.
  const metrics = (row: ReportRow) => [String(row.requests), String(row.errors), String(row.inputTokens), String(row.outputTokens), row.costUsd.toFixed(4), String(row.unpricedRequests)];
  const table = [header, ...rows.map((row) => [...by.map((dimension) => escapeControlCharacters(row.keys[dimension] ?? '')), ...metrics(row)])];
  const widths = header.map((_, column) => Math.max(...table.map((cells) => cells[column]!.length)));
  const lines = table.map((cells) => cells.map((cell, column) => (column >= by.length ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join('  ').trimEnd());
  if (rows.length === 0) lines.push('(no usage in this period)');
  return `${lines.join('\n')}\n`;
}
