/**
 * The one error a pack refusal carries. Codes are stable: the admin reload report and the
 * `model pack refused` log line show them to the operator.
 * @module
 */
export const PACK_ERROR_CODES = [
  'manifest_missing',
  'manifest_invalid',
  'file_missing',
  'file_size_mismatch',
  'checksum_mismatch',
  'path_unsafe',
  'symlink_refused',
  'file_unlisted',
  'engine_unknown',
  'engine_load_failed',
] as const;

export type PackErrorCode = (typeof PACK_ERROR_CODES)[number];

/**
 * The pack code an error carries, also when it crossed a worker boundary as a plain object
 * with a `code` (the ChatTTS engine loads in a worker thread).
 */
export function packErrorCodeOf(error: unknown): PackErrorCode | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return (PACK_ERROR_CODES as readonly unknown[]).includes(code) ? (code as PackErrorCode) : undefined;
}

export class PackError extends Error {
  override readonly name = 'PackError';
  constructor(
    readonly code: PackErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}
