import { randomFillSync } from 'node:crypto';

// Random bytes are drawn 4 KiB at a time (256 ids) rather than with one randomBytes(16) call per id.
const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let poolOffset = POOL_SIZE;
const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, '0'));

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then randomness. Ids sort by creation
 * time as plain strings, which the ledger and the audit endpoint rely on for ordering.
 */
export function newRequestId(now: number = Date.now()): string {
  if (poolOffset + 10 > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const r = poolOffset;
  poolOffset += 10;
  // 48-bit big-endian milliseconds.
  const high = Math.floor(now / 0x1000000);
  const low = now % 0x1000000;
  const time =
    HEX[(high >>> 16) & 0xff]! + HEX[(high >>> 8) & 0xff]! + HEX[high & 0xff]! + HEX[(low >>> 16) & 0xff]! + HEX[(low >>> 8) & 0xff]! + HEX[low & 0xff]!;
  return (
    `${time.slice(0, 8)}-${time.slice(8, 12)}-` +
    `${HEX[0x70 | (pool[r]! & 0x0f)]}${HEX[pool[r + 1]!]}-` +
    `${HEX[0x80 | (pool[r + 2]! & 0x3f)]}${HEX[pool[r + 3]!]}-` +
    HEX[pool[r + 4]!]! + HEX[pool[r + 5]!]! + HEX[pool[r + 6]!]! + HEX[pool[r + 7]!]! + HEX[pool[r + 8]!]! + HEX[pool[r + 9]!]!
  );
}
