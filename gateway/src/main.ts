/**
 * The gateway process: `--config FILE` (default config/local.yaml), `--port N` (0 = ephemeral;
 * `PORT` env also works), `--host`, `--region`. Prints one JSON line with msg "listening" and
 * `url` once the first health sweep finished and the socket is bound. SIGHUP and file changes
 * reload the config (a bad file is refused, the running config stays); SIGTERM/SIGINT drain
 * and exit.
 * @module
 */
import type { AddressInfo } from 'node:net';
import { readCommandLine } from '../../cli/command-line.ts';
import { GATEWAY_COMMAND } from './config/command.ts';
import { envOverrides, loadConfigFile, watchConfigFile } from './config/load.ts';
import { createGatewayServer } from './http/server.ts';
import { createGateway } from './gateway.ts';
import { applyGcTuning } from './lifecycle/gc-tuning.ts';
import { systemClock } from './lifecycle/clock.ts';
import { createLogger } from './observability/logger.ts';

const { values } = readCommandLine(GATEWAY_COMMAND);

applyGcTuning();
const log = createLogger();
const env = envOverrides();
const region = values.region ?? env.region;
const configPath = values.config!;

let config;
try {
  config = loadConfigFile(configPath, { region });
} catch (err) {
  log.fatal({ err: (err as Error).message, issues: (err as { issues?: unknown }).issues }, 'config refused');
  process.exit(1);
}

if (Object.values(config.exposure).includes('token') && !env.adminToken)
  log.warn('exposure: token but VOXGATE_ADMIN_TOKEN is unset or shorter than 16 characters: those pages answer 401 to everyone');
const gateway = createGateway(config, { logger: log, ...(region ? { region } : {}), ...(env.adminToken ? { adminToken: env.adminToken } : {}) });
await Promise.race([gateway.ready, systemClock.sleep(5_000)]);

const port = values.port !== undefined ? Number(values.port) : (env.port ?? config.listen.port);
const host = values.host ?? config.listen.host;
const server = createGatewayServer(gateway.listener, config.server);
server.listen(port, host, () => {
  const info = server.address() as AddressInfo;
  log.info({ url: `http://${host.includes(':') ? `[${host}]` : host}:${info.port}`, region: gateway.config().region, port: info.port }, 'listening');
});
server.on('error', (err) => {
  log.fatal({ err }, 'server error');
  process.exit(1);
});

const reload = (why: string) => {
  const r = gateway.reloadFile(configPath);
  log.info({ why, ok: r.ok }, 'config reload requested');
};
process.on('SIGHUP', () => reload('SIGHUP'));
const unwatch = values['no-watch'] ? () => undefined : watchConfigFile(configPath, () => reload('file changed'));

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  unwatch();
  // eslint-disable-next-line no-restricted-globals -- the process's last resort: a real, unref'd timer, outside any test clock.
  const force = setTimeout(() => process.exit(1), 15_000);
  force.unref();
  server.close();
  void gateway.close().then(() => {
    log.info({}, 'stopped');
    log.flush?.();
    process.exit(0);
  });
};
process.on('SIGTERM', () => stop('SIGTERM'));
// Under `npm start` (an IPC channel to the supervisor): never outlive the supervisor.
if (process.send) process.once('disconnect', () => stop('disconnect'));
process.on('SIGINT', () => stop('SIGINT'));
