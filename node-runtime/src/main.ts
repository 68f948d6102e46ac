/**
 * The node runtime process: config → runtime → listen. SIGTERM/SIGINT drain and exit 0;
 * SIGHUP reloads model packs.
 * @module
 */
import { readCommandLine } from '../../cli/command-line.ts';
import { loadRuntimeConfig, RUNTIME_COMMAND } from './config/load.ts';
import { createRuntime } from './runtime.ts';

readCommandLine(RUNTIME_COMMAND); // --help, or a bad flag: print and exit before anything starts
const config = loadRuntimeConfig();
const runtime = createRuntime(config);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    runtime.logger.info({ signal }, 'shutting down');
    runtime.close().then(
      () => process.exit(0),
      (error: unknown) => {
        runtime.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
// Started by a supervisor with an IPC channel (`npm start`): its death, even by SIGKILL, closes the
// channel, and this node must not live on as an orphan.
if (process.send) process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));

process.on('SIGHUP', () => {
  runtime.registry.reload().catch((error: unknown) => runtime.logger.error({ err: error }, 'reload failed'));
});

runtime.start().catch((error: unknown) => {
  runtime.logger.fatal({ err: error }, 'failed to start');
  process.exit(1);
});
