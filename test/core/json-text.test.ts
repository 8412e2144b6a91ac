import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JsonTextError, nestsDeeperThan, parseJsonText } from '../../src/core/json-text.ts';

describe('parseJsonText', () => {
  it('parses JSON, with or without a byte order mark', () => {
    assert.deepEqual(parseJsonText('{"port":1}'), { port: 1 });
    assert.deepEqual(parseJsonText('\ufeff{"port":1}'), { port: 1 });
  });

  it('says where the text is broken without quoting it', () => {
    for (const text of [`{"apiKey":'bb-Zq9w7Lk3Xy5Vt1'}`, '{"apiKey":bb-Zq9w7Lk3Xy5Vt1}', '{"apiKey":"bb-Zq9w7Lk3Xy5Vt1",}', '{"apiKey":"bb-Zq9w7Lk3Xy5Vt1"']) {
      assert.throws(
        () => parseJsonText(text),
        (error: unknown) => {
          assert.ok(error instanceof JsonTextError);
          assert.match(error.message, /^not valid JSON/);
          assert.doesNotMatch(error.message, /Zq9w|bb-/);
          return true;
        },
        text,
      );
    }
    assert.throws(() => parseJsonText('{\n  "port": 1,\n}'), /not valid JSON at line 3, column 1/);
  });
});

describe('nestsDeeperThan', () => {
  it('counts object and array levels, not string contents, and survives any depth', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = i % 2 === 0 ? [deep] : { a: deep };
    assert.equal(nestsDeeperThan(deep, 256), true);
    assert.equal(nestsDeeperThan({ a: [{ b: '[[[[[[[[[[' }] }, 3), false);
    assert.equal(nestsDeeperThan({ a: [{ b: [] }] }, 3), true);
    assert.equal(nestsDeeperThan('text', 0), false);
  });
});
