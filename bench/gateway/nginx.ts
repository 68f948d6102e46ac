/**
 * nginx as a native reverse proxy baseline, when it is installed: one worker, upstream keepalive,
 * buffering on without temp files (docs/proxy-performance.md §2a). Absent nginx the
 * caller skips the target and says so in the summary.
 * @module
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startService, type Service } from '../lib/proc.ts';

export function nginxPath(): string | undefined {
  for (const p of ['nginx', '/usr/sbin/nginx']) {
    try {
      execFileSync(p, ['-v'], { stdio: 'ignore' });
      return p;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export async function startNginx(bin: string, upstreamUrl: string, dir: string): Promise<{ service: Service; url: string }> {
  const port = await freePort();
  const up = new URL(upstreamUrl);
  mkdirSync(join(dir, 'nginx'), { recursive: true });
  const conf = join(dir, 'nginx', 'nginx.conf');
  const t = join(dir, 'nginx');
  writeFileSync(
    conf,
    `worker_processes 1;
daemon off;
master_process off;
error_log ${t}/error.log warn;
pid ${t}/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${t}/body; proxy_temp_path ${t}/proxy; fastcgi_temp_path ${t}/fcgi;
  uwsgi_temp_path ${t}/uwsgi; scgi_temp_path ${t}/scgi;
  upstream u { server ${up.hostname}:${up.port}; keepalive 512; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://u;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering on;
      proxy_max_temp_file_size 0;
    }
  }
}
`,
  );
  const service = await startService({ name: 'nginx', command: bin, args: ['-c', conf, '-p', t], logFile: join(dir, 'nginx.log') });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`${url}/readyz`);
      await r.arrayBuffer();
      if (r.status === 200) return { service, url };
    } catch {
      /* not yet */
    }
    await sleep(50);
  }
  await service.kill();
  throw new Error('nginx did not answer');
}
