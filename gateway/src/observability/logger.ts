/**
 * One pino root per gateway. Messages are fixed strings; data goes in fields. Authorization
 * headers and keys are redacted wherever they appear.
 * Lines go to stdout one write(2) per event-loop turn (log-destination.ts).
 * @module
 */
import pino, { type Logger } from 'pino';
import { stdoutDestination } from './log-destination.ts';

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
  return pino(opts, options.destination ?? stdoutDestination());
}
