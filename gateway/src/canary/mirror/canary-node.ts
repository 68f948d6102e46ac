/**
 * Headroom: a canary node may take a mirror only when it is available (healthy, not ejected,
 * breaker closed), not saturated, and has a free slot right now — shadow traffic must never
 * queue on a node, because a canary node may also serve real traffic. Among those, the least
 * loaded wins, home region first on ties.
 * @module
 */
import type { Endpoint, EndpointSet } from '../../upstream/endpoints.ts';

export function canaryNode(endpoints: EndpointSet, model: string, home: string, now: number): Endpoint | undefined {
  let best: Endpoint | undefined;
  for (const e of endpoints.takingWork(model, now)) {
    if (e.load && (!e.load.ready || e.load.draining)) continue;
    if (e.outstanding() >= e.slots()) continue;
    if (!best || e.outstanding() < best.outstanding() || (e.outstanding() === best.outstanding() && e.region === home && best.region !== home)) best = e;
  }
  return best;
}
