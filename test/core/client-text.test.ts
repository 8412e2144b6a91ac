import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clipText, escapeControlCharacters, printable } from '../../src/core/client-text.ts';

describe('client text', () => {
  it('escapes C0, DEL, C1, line/paragraph separators and bidi controls; leaves other text alone', () => {
    const cases: [string, string][] = [
      ['gpt-4o\n2026-01-01T00:00:00Z 200 FAKE LINE', 'gpt-4o\\n2026-01-01T00:00:00Z 200 FAKE LINE'],
      ['a\rb\tc', 'a\\rb\\tc'],
      ['\u0000\u0007\u001b[2J', '\\x00\\x07\\x1b[2J'],
      ['del\u007f', 'del\\x7f'],
      ['c1\u0085\u009b31m', 'c1\\x85\\x9b31m'],
      ['ls\u2028ps\u2029', 'ls\\u2028ps\\u2029'],
      ['evil\u202egnp.exe', 'evil\\u202egnp.exe'],
      ['\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069\u200e\u200f\u061c', '\\u202a\\u202b\\u202c\\u202d\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\\u061c'],
      ['Mozilla/5.0 (X11; Linux x86_64) é 模型 🙂', 'Mozilla/5.0 (X11; Linux x86_64) é 模型 🙂'],
      ['back\\slash', 'back\\slash'],
    ];
    for (const [input, expected] of cases) assert.equal(escapeControlCharacters(input), expected, JSON.stringify(input));
  });

  it('clips without splitting a surrogate pair, and prints one bounded line', () => {
    assert.equal(clipText('abcdef', 3), 'abc');
    assert.equal(clipText('ab🙂', 3), 'ab');
    assert.equal(clipText('short', 100), 'short');
    const line = printable(`${'x'.repeat(500)}\n`, 50);
    assert.equal(line.length, 50);
    assert.ok(line.endsWith('…'));
    assert.equal(printable('a\nb'), 'a\\nb');
  });
});
