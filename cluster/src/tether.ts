/**
 * Runs a program that is not Node (redis-server) as a supervised child that still goes when the
 * launcher goes: `node --import tsx cluster/src/tether.ts PROGRAM ARGS…` starts PROGRAM with the
 * same stdio, forwards SIGTERM/SIGINT to it, and ends it when its IPC channel to the launcher
 * closes — which is how the node runtimes and gateways leave no orphan behind even when the
 * launcher is killed with SIGKILL. Exits with the program's status.
 * @module
 */
import { spawn } from 'node:child_process';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  process.stderr.write('usage: tether.ts PROGRAM [ARGS…]\n');
  process.exit(2);
}
const child = spawn(command, args, { stdio: 'inherit' });
const end = (): void => void child.kill('SIGTERM');
process.on('disconnect', end);
process.on('SIGTERM', end);
process.on('SIGINT', end);
child.once('error', (err) => {
  process.stderr.write(`${command}: ${err.message}\n`);
  process.exit(127);
});
child.once('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
