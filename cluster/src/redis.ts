/**
 * The local Redis that `npm start -- --gateways N` shares between its gateways: Debian's
 * redis-server on loopback, no persistence, supervised like every other child. A machine without
 * it gets one clear line saying what to install, and the launcher stops.
 * @module
 */
import { spawnSync } from 'node:child_process';

export const REDIS_INSTALL_HINT = 'redis-server is not installed: `apt-get install redis-server` (Debian), then run again';

export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).error === undefined;
}

/** Arguments for a loopback redis-server with nothing written to disk. */
export function redisArgs(host: string, port: number): string[] {
  return ['--port', String(port), '--bind', host, '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'];
}
