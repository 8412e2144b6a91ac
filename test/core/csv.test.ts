import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { csvCell, toCsv } from '../../src/core/csv.ts';
import { usageCsv } from '../../src/usage/aggregates.ts';

describe('CSV writer', () => {
  it('defuses cells a spreadsheet would run as a formula (OWASP CSV injection)', () => {
    const cases: [string, string][] = [
      ['=HYPERLINK("http://x","y")', `"'=HYPERLINK(""http://x"",""y"")"`],
      ['+1+1', `"'+1+1"`],
      ['-2+3', `"'-2+3"`],
      ['@SUM(A1)', `"'@SUM(A1)"`],
      ['\t=1', `"'\t=1"`],
      ['\r=1', `"'\r=1"`],
      ['gpt-4o', '"gpt-4o"'],
      ['a,b\nc', '"a,b\nc"'],
      ['', '""'],
    ];
    for (const [value, expected] of cases) assert.equal(csvCell(value), expected, JSON.stringify(value));
    assert.equal(csvCell(-3), '-3', 'numbers are data, not formulas');
    assert.equal(csvCell(0.25), '0.25');
    assert.equal(csvCell(Number.NaN), '');
    assert.equal(csvCell(null), '');
    assert.equal(csvCell(true), 'true');
  });

  it('writes RFC 4180 documents', () => {
    assert.equal(toCsv(['a', 'b'], [['x', 1], [null, '=1']]), `"a","b"\r\n"x",1\r\n,"'=1"\r\n`);
  });

  it('exports grouped usage with client-chosen keys defused', () => {
    const row = { key: '=cmd|"/c calc"!A1', requests: 2, inputTokens: 10, outputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 0, totalTokens: 15, costUsd: 0.5, unpricedRequests: 0, errors: 1 };
    const csv = usageCsv({ client: [row], day: [{ ...row, key: '2026-11-22' }] });
    const lines = csv.trimEnd().split('\r\n');
    assert.equal(lines[0], '"grouping","key","requests","input_tokens","output_tokens","cache_read_tokens","cache_write_tokens","total_tokens","cost_usd","unpriced_requests","errors"');
    assert.equal(lines[1], `"client","'=cmd|""/c calc""!A1",2,10,5,0,0,15,0.5,0,1`);
    assert.equal(lines[2], '"day","2026-11-22",2,10,5,0,0,15,0.5,0,1');
  });
});
