/**
 * One AbortSignal per request that fires when its budget runs out or its client goes away,
 * with a reason that says which: the scheduler and the engines only ever look at the signal.
 * @module
 */
import type { ServerResponse } from 'node:http';
import { ClientGoneError } from '../errors/client-gone.ts';
import { RuntimeError } from '../errors/runtime-error.ts';

export { ClientGoneError } from '../errors/client-gone.ts';

export interface RequestSignal {
  signal: AbortSignal;
  dispose(): void;
}

export function requestSignal(budgetMs: number, response: ServerResponse | undefined): RequestSignal {
  const controller = new AbortController();
  const expire = (): void => controller.abort(new RuntimeError('deadline_exceeded', `request budget of ${budgetMs} ms ran out`));
  // A budget already spent upstream must not reach the engine, even when a slot is free.
  if (budgetMs <= 0) expire();
  const timer = setTimeout(expire, budgetMs);
  const onClose = (): void => {
    if (!response?.writableFinished) controller.abort(new ClientGoneError('client closed the connection'));
  };
  response?.once('close', onClose);
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      response?.off('close', onClose);
    },
  };
}
