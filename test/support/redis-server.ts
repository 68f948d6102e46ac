/**
 * A real redis-server (Debian's) on a free loopback port, for tests of the shared state: no
 * persistence, no config file, stopped by `stop()`. `systemPackage` decides skip or fail when it
 * is not installed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { hasCommand, systemPackage } from './system-package.ts';

export const hasRedis = (): boolean => systemPackage('redis-server', () => hasCommand('redis-server'), 'apt-get install redis-server');

export interface RedisProcess {
  port: number;
  /** The running server's pid (undefined while stopped). */
  readonly pid: number | undefined;
  url: string;
  stop(): Promise<void>;
  /** Starts it again on the same port (after `stop()`), as a Redis that came back. */
  restart(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export async function startRedis(): Promise<RedisProcess> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const launch = () =>
    new Promise<void>((resolve, reject) => {
      const c = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      child = c;
      let out = '';
      c.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Ready to accept connections')) resolve();
      });
      c.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out.slice(-500)}`)));
    });
  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  };
  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child?.pid;
    },
    stop,
    restart: launch,
  };
}
