import { crc32 } from 'node:zlib';

/**
 * AWS event-stream frames (application/vnd.amazon.eventstream), as Bedrock's streaming operations send
 * them: `[total u32][headers u32][prelude CRC32][headers][payload][message CRC32]`, string headers only.
 * The header block of each event type is encoded once and reused, so a frame costs one JSON
 * serialisation, one copy and two CRC32s. test/emulator/eventstream.test.ts checks every frame kind
 * against @smithy/eventstream-codec's decoder (the SDK's own).
 */

const STRING_TYPE = 7;

/** Encodes `name -> string value` headers in order. */
export function encodeStringHeaders(headers: Readonly<Record<string, string>>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const nameBytes = Buffer.from(name, 'utf8');
    const valueBytes = Buffer.from(value, 'utf8');
    const part = Buffer.allocUnsafe(1 + nameBytes.length + 1 + 2 + valueBytes.length);
    let o = part.writeUInt8(nameBytes.length, 0);
    o += nameBytes.copy(part, o);
    o = part.writeUInt8(STRING_TYPE, o);
    o = part.writeUInt16BE(valueBytes.length, o);
    valueBytes.copy(part, o);
    parts.push(part);
  }
  return Buffer.concat(parts);
}

/** One frame from a pre-encoded header block and a payload. */
export function encodeFrame(headers: Buffer, payload: Buffer): Buffer {
  const total = 12 + headers.length + payload.length + 4;
  const frame = Buffer.allocUnsafe(total);
  frame.writeUInt32BE(total, 0);
  frame.writeUInt32BE(headers.length, 4);
  frame.writeUInt32BE(crc32(frame.subarray(0, 8)), 8);
  headers.copy(frame, 12);
  payload.copy(frame, 12 + headers.length);
  frame.writeUInt32BE(crc32(frame.subarray(0, total - 4)), total - 4);
  return frame;
}

const eventHeaderBlocks = new Map<string, Buffer>();

function eventHeaderBlock(eventType: string): Buffer {
  let block = eventHeaderBlocks.get(eventType);
  if (!block) {
    block = encodeStringHeaders({ ':event-type': eventType, ':content-type': 'application/json', ':message-type': 'event' });
    eventHeaderBlocks.set(eventType, block);
  }
  return block;
}

/** An event frame: `:message-type=event`, `:event-type=<eventType>`, JSON payload. */
export function encodeEvent(eventType: string, payload: unknown): Buffer {
  return encodeFrame(eventHeaderBlock(eventType), Buffer.from(JSON.stringify(payload), 'utf8'));
}

/** An in-stream exception frame: `:message-type=exception`, `:exception-type=<type>`, `{"message"}`. */
export function encodeException(exceptionType: string, message: string): Buffer {
  const headers = encodeStringHeaders({ ':exception-type': exceptionType, ':content-type': 'application/json', ':message-type': 'exception' });
  return encodeFrame(headers, Buffer.from(JSON.stringify({ message }), 'utf8'));
}
