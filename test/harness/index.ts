/**
 * The shared test harness: real node runtimes and a real gateway on 127.0.0.1, fault proxies,
 * and client helpers. See docs in each module.
 * @module
 */
export * from './cluster.ts';
export * from './client.ts';
export * from './config.ts';
export * from './fault-proxy.ts';
export { ManagedProcess, startProcess, REPO_ROOT, type RetainedMemory } from './processes.ts';
