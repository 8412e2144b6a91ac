import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { converseBodyUsage, EventStreamUsage } from '../../src/core/bedrock-native-usage.ts';
import { encodeEvent, encodeException } from '../../src/emulator/eventstream.ts';

const chunk = (event: unknown) => encodeEvent('chunk', { bytes: Buffer.from(JSON.stringify(event)).toString('base64') });

describe('usage of relayed Bedrock-native responses', () => {
  it('reads ConverseStream usage from the metadata event, whatever the chunk boundaries', () => {
    const stream = Buffer.concat([
      encodeEvent('messageStart', { role: 'assistant' }),
      encodeEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'hi' } }),
      encodeEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: ' there' } }),
      encodeEvent('messageStop', { stopReason: 'end_turn' }),
      encodeEvent('metadata', { usage: { inputTokens: 11, outputTokens: 2, cacheReadInputTokens: 5, totalTokens: 18 }, metrics: { latencyMs: 3 } }),
    ]);
    for (const size of [1, 7, 50, stream.length]) {
      const reader = new EventStreamUsage();
      let sawContent = false;
      for (let at = 0; at < stream.length; at += size) sawContent = reader.push(stream.subarray(at, at + size)) || sawContent;
      assert.ok(sawContent, `content seen with ${size}-byte chunks`);
      assert.equal(reader.events, 4, 'every event after the message start');
      assert.deepEqual(reader.usage, { inputTokens: 11, outputTokens: 2, cacheReadTokens: 5, cacheWriteTokens: 0 });
      assert.equal(reader.exception, null);
    }
  });

  it('takes the invocation metrics of InvokeModelWithResponseStream first, Claude\'s own usage for what they lack', () => {
    const reader = new EventStreamUsage();
    assert.equal(reader.push(chunk({ type: 'message_start', message: { usage: { input_tokens: 9, output_tokens: 1, cache_creation_input_tokens: 40, cache_read_input_tokens: 0 } } })), false);
    for (let i = 0; i < 200; i++) assert.equal(reader.push(chunk({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'x' } })), true);
    assert.equal(reader.events, 200);
    reader.push(chunk({ type: 'content_block_stop', index: 0 }));
    reader.push(chunk({ type: 'message_delta', usage: { output_tokens: 6 } }));
    assert.deepEqual(reader.usage, { inputTokens: 9, outputTokens: 6, cacheReadTokens: 0, cacheWriteTokens: 40 });
    reader.push(chunk({ type: 'message_stop', 'amazon-bedrock-invocationMetrics': { inputTokenCount: 10, outputTokenCount: 7, invocationLatency: 5, firstByteLatency: 2 } }));
    assert.deepEqual(reader.usage, { inputTokens: 10, outputTokens: 7, cacheReadTokens: 0, cacheWriteTokens: 40 });
  });

  it('names an in-stream exception, and reads no usage from a corrupt frame', () => {
    const reader = new EventStreamUsage();
    reader.push(Buffer.concat([encodeEvent('messageStart', { role: 'assistant' }), encodeEvent('contentBlockDelta', { delta: { text: 'a' } }), encodeException('throttlingException', 'slow down')]));
    assert.equal(reader.exception, 'throttlingException');
    const corrupt = encodeEvent('metadata', { usage: { inputTokens: 1, outputTokens: 1 } });
    corrupt[corrupt.length - 1]! ^= 0xff;
    const broken = new EventStreamUsage();
    broken.push(encodeEvent('messageStart', { role: 'assistant' }));
    broken.push(corrupt);
    assert.deepEqual(broken.usage, { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 });
  });

  it('reads Converse\'s usage from its JSON body', () => {
    assert.deepEqual(converseBodyUsage(Buffer.from(JSON.stringify({ usage: { inputTokens: 3, outputTokens: 4, cacheWriteInputTokens: 2 } }))), { inputTokens: 3, outputTokens: 4, cacheReadTokens: 0, cacheWriteTokens: 2 });
    assert.deepEqual(converseBodyUsage(Buffer.from('not json')), { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 });
  });
});
