/**
 * One pino root per gateway. Messages are fixed strings; data goes in fields. Authorization
 * headers and keys are redacted wherever they appear.
 *
 * Lines go to stdout through an asynchronous sonic-boom: pino's default writes each line with a
 * write(2) on the event loop, one syscall per request for the access log. Asynchronously, lines
 * that arrive while a write is in flight go out together in the next one; none waits for a
 * minimum length, and pino flushes what is left on exit.
 * @module
 */
import pino, { type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  /** Where lines go (tests pass a sink); stdout by default. */
  destination?: pino.DestinationStream;
}

/**
 * @example
 * const log = createLogger({ level: 'info' });
 * log.info({ node: 'n1' }, 'node ejected');
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const opts: pino.LoggerOptions = {
    level: options.level ?? process.env['LOG_LEVEL'] ?? 'info',
    base: { svc: 'gateway' },
    redact: { paths: ['authorization', 'headers.authorization', 'key', '*.key'], censor: '[redacted]' },
  };
  return pino(opts, options.destination ?? pino.destination({ dest: 1, sync: false }));
}
