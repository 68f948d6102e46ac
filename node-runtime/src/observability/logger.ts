/**
 * One pino root per process. Messages are fixed strings; data goes in fields.
 * @module
 */
import { pino, type Logger } from 'pino';

export function createLogger(options: { level: string; nodeId: string; region: string }): Logger {
  return pino({
    level: options.level,
    base: { node_id: options.nodeId, region: options.region },
    redact: { paths: ['authorization', 'headers.authorization', '*.admin_token'], remove: true },
  });
}

export type { Logger };
