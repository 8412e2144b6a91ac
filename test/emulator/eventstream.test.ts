import assert from 'node:assert/strict';
import { it } from 'node:test';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { encodeEvent, encodeException } from '../../src/emulator/eventstream.ts';

const codec = new EventStreamCodec(toUtf8, fromUtf8);

it('event frames decode with @smithy/eventstream-codec (both CRCs checked)', () => {
  const payload = { contentBlockIndex: 0, delta: { text: 'héllo ✓' } };
  const frame = encodeEvent('contentBlockDelta', payload);
  const message = codec.decode(frame);
  assert.deepEqual(message.headers, {
    ':event-type': { type: 'string', value: 'contentBlockDelta' },
    ':content-type': { type: 'string', value: 'application/json' },
    ':message-type': { type: 'string', value: 'event' },
  });
  assert.deepEqual(JSON.parse(toUtf8(message.body)), payload);
  // The encoder agrees byte for byte with the codec's own.
  const reference = codec.encode({ headers: message.headers, body: message.body });
  assert.deepEqual(Buffer.from(reference), frame);
  const corrupted = Buffer.from(frame);
  corrupted[corrupted.length - 6]! ^= 1;
  assert.throws(() => codec.decode(corrupted), /checksum/i);
});

it('exception frames carry :message-type=exception and :exception-type', () => {
  const message = codec.decode(encodeException('throttlingException', 'slow down'));
  assert.equal(message.headers[':message-type']!.value, 'exception');
  assert.equal(message.headers[':exception-type']!.value, 'throttlingException');
  assert.deepEqual(JSON.parse(toUtf8(message.body)), { message: 'slow down' });
});
