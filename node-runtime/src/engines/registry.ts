/**
 * Engine kinds by name. A pack's manifest names its kind; the runtime looks the factory up here.
 * Engines are imported lazily so a runtime that serves only flite never loads onnxruntime.
 * Adding a kind is one line here.
 * @module
 */
import type { EngineFactory } from './engine.ts';

type FactoryLoader = () => Promise<EngineFactory>;

const kinds = new Map<string, FactoryLoader>([
  ['flite', async () => (await import('./flite/flite-engine.ts')).createFliteEngine],
  ['chattts', async () => (await import('./chattts/chattts-engine.ts')).createChatttsEngine],
  ['espeak', async () => (await import('./espeak/espeak-engine.ts')).createEspeakEngine],
  ['sim', async () => (await import('./sim/sim-engine.ts')).createSimEngine],
]);

export function engineKinds(): string[] {
  return [...kinds.keys()];
}

export async function engineFactory(kind: string): Promise<EngineFactory | undefined> {
  const loader = kinds.get(kind);
  return loader ? loader() : undefined;
}
