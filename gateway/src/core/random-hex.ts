/**
 * Random ids as hex. Bytes come from a pooled buffer refilled 4 KiB at a time: `randomBytes(16)`
 * per request was one `randomFillSync` call into OpenSSL each (1.5 % of the gateway's busy time in
 * bench/results/profile.md). The bytes are the same CSPRNG's; only the calls are batched.
 * @module
 */
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let offset = POOL_BYTES;

/** `bytes` fresh random bytes as lowercase hex (each byte is handed out once). */
export function randomHex(bytes: number): string {
  if (offset + bytes > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return hex;
}
