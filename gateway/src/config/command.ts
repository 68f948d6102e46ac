/**
 * The gateway's command line (`npm run gateway -- --help`), apart from main.ts so that the
 * deployment files' arguments can be checked against it without starting a gateway.
 * @module
 */
import { defineCommand } from '../../../cli/command-line.ts';

export const GATEWAY_COMMAND = defineCommand({
  name: 'npm run gateway --',
  summary:
    'The voxgate gateway: admits, plans and dispatches synthesis requests to the node runtimes in its config.\nCompiled: node --no-incremental-marking-task dist/gateway/src/main.js [options].',
  options: {
    config: { type: 'string', value: 'FILE', default: 'config/local.yaml', help: 'gateway config (YAML or JSON); reloaded on SIGHUP and on change' },
    port: { type: 'string', value: 'N', help: 'listen port, 0 for an ephemeral one (env PORT; default: listen.port)' },
    host: { type: 'string', value: 'ADDR', help: 'listen address (default: listen.host)' },
    region: { type: 'string', value: 'NAME', help: 'home region of this gateway (env VOXGATE_REGION; default: region in the config)' },
    'no-watch': { type: 'boolean', default: false, help: 'do not watch the config file (SIGHUP still reloads)' },
  },
  notes: 'Signals: SIGHUP reloads the config; SIGTERM/SIGINT drain and exit 0.',
});
