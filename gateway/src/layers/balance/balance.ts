/**
 * The balance layer: picks the node for this attempt (region by priority load, node by the
 * balancer among that region's untried candidates; read from the routing table's per-model host
 * sets, so the cost does not grow with the number of nodes), keeps the gateway's in-flight count
 * and latency EWMA per node, and reports each outcome to outlier detection. With no capable node
 * available it waits for one (within `capacity_wait_ms` and the deadline) and then answers
 * 503 `no_capacity`; with every candidate saturated it answers 503 `busy` at once.
 * @module
 */
import { GatewayError } from '../../errors/gateway-error.ts';
import { toGatewayError } from '../../errors/to-response.ts';
import type { Clock } from '../../lifecycle/clock.ts';
import type { GatewayMetrics } from '../../observability/metrics.ts';
import type { Endpoint, EndpointSet } from '../../upstream/endpoints.ts';
import type { OutlierDetector } from '../../upstream/outlier-detection.ts';
import type { Balancer } from './balancer.ts';
import { chooseRegion, fitsBudget, queueAllowanceMs, selectCandidates, type PriorityOptions, type TryBudget } from './priority.ts';
import { sample } from './sample.ts';
import type { Layer, UpstreamRequest } from '../../upstream/service.ts';

export interface BalanceOptions {
  endpoints: EndpointSet;
  balancer: Balancer;
  outliers: OutlierDetector;
  clock: Clock;
  metrics: GatewayMetrics;
  priority: () => PriorityOptions;
  capacityWaitMs: () => number;
  /** Per-try timeout: nodes that cannot answer within it are skipped. */
  attemptMs?: (req: UpstreamRequest) => number;
  random?: () => number;
}

/** How long a node may hold a batch request before starting it regardless (node scheduler `batchMaxWaitMs`). */
export const BATCH_SLOT_WAIT_MS = 30_000;
const POLL_MS = 25;

/**
 * @example
 * const layer = balance({ endpoints, balancer: p2c(), outliers, clock, metrics, priority: () => opts, capacityWaitMs: () => 1000 });
 */
export function balance(options: BalanceOptions): Layer {
  const { endpoints, balancer, clock, outliers, metrics } = options;
  const random = options.random ?? Math.random;
  return (inner) =>
    async function balanceLayer(req) {
      const waitUntil = Math.min(req.deadlineAt, clock.now() + options.capacityWaitMs());
      let endpoint;
      let budget: TryBudget | undefined;
      for (;;) {
        const now = clock.now();
        const { model, pack } = req.route;
        budget = options.attemptMs ? { tryMs: options.attemptMs(req), leftMs: req.deadlineAt - now } : undefined;
        const priority = options.priority();
        const hosts = endpoints.hosts(model, pack, now);
        // Fast path, O(1) in the number of nodes: region from the routing table's counts, then the
        // balancer's few random draws from it. Each candidate is checked live here, whatever the
        // table says. The exact scan decides whatever this cannot (panic, saturation, nothing left).
        const region = chooseRegion(hosts, req.route.regions, req.tried, priority, random);
        if (region) {
          const capable = (e: Endpoint) => !req.tried.has(e.id) && e.isAvailable(now) && !e.isSaturated(now) && e.serves(model, pack) && fitsBudget(e, budget);
          const drawn = balancer.choiceCount ? sample(region.fresh, balancer.choiceCount, capable, random) : undefined;
          const candidates = drawn ?? region.fresh.filter(capable);
          endpoint = candidates.length > 0 ? balancer.pick(candidates) : undefined;
          if (endpoint) break;
        }
        const sel = selectCandidates(hosts.nodes, req.route.regions, req.tried, now, priority, options.random, budget);
        if (sel.panic) metrics.panics.inc();
        endpoint = sel.candidates.length > 0 ? balancer.pick(sel.candidates) : undefined;
        if (endpoint) break;
        if (sel.empty === 'saturated') throw new GatewayError('VOX_ERR_BUSY', `every node serving ${req.route.model} is saturated`, { retryAfterMs: 1000 });
        if (sel.empty === 'tried' || req.tried.size > 0)
          throw new GatewayError('VOX_ERR_NO_CAPACITY', `every node serving ${req.route.model} was tried`, { retryAfterMs: 1000 });
        // Nothing available yet: wait for a node to come back, within the deadline.
        if (clock.now() + POLL_MS > waitUntil)
          throw new GatewayError('VOX_ERR_NO_CAPACITY', `no node serving ${req.route.model} is reachable`, { retryAfterMs: 1000 });
        await clock.sleep(POLL_MS, req.deadline);
      }
      req.tried.add(endpoint.id);
      const wait = endpoint.estimatedWaitMs();
      if (budget && wait > 0) req.extendTry?.(queueAllowanceMs(wait, budget.tryMs));
      // Batch work neither counts as load (the node reports it apart too) nor feeds the latency
      // estimate (it waits behind interactive work by design): degradation, saturation and p2c
      // see interactive capacity only.
      const batch = req.priority === 'batch';
      // A node starts batch work only in spare slots, and makes it wait up to BATCH_SLOT_WAIT_MS
      // under sustained interactive load: that wait is by design, not a node failing to answer,
      // so it does not count against the try (the request's own deadline still bounds it).
      if (batch) req.extendTry?.(BATCH_SLOT_WAIT_MS);
      const token = batch ? 0 : endpoint.begin();
      const started = clock.now();
      const settle = () => {
        if (!batch) endpoint.end(token);
      };
      try {
        const res = await inner({ ...req, endpoint });
        const ms = clock.now() - started;
        // The EWMA is of service time: the node's reported queue wait is load, already counted
        // by `outstanding()`; counting it twice would make a briefly busy node look slow for long.
        // A streamed answer's service time is its whole stream, not the time to its headers. Batch
        // work (jobs, pre-synthesis) stays out of the estimate interactive routing reads.
        const queueMs = Number(res.headers['x-queue-ms']) || 0;
        if (!batch) {
          if (Buffer.isBuffer(res.body)) endpoint.observeLatency(Math.max(1, ms - queueMs));
          else res.body.once('end', () => endpoint.observeLatency(Math.max(1, clock.now() - started - queueMs)));
        }
        outliers.success(endpoint);
        req.attempts.push({ node: endpoint.id, region: endpoint.region, outcome: 'ok', ms });
        if (Buffer.isBuffer(res.body)) settle();
        else {
          res.body.once('close', settle);
          res.body.once('error', (err: unknown) => outliers.failure(endpoint, err));
        }
        return res;
      } catch (err) {
        settle();
        outliers.failure(endpoint, err);
        req.attempts.push({ node: endpoint.id, region: endpoint.region, outcome: toGatewayError(err).wire, ms: clock.now() - started });
        throw err;
      }
    };
}
