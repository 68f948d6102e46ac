/**
 * The canary store replicas share (Redis), used instead of the SQLite file when `shared_state`
 * is configured: every replica pushes the pairs it finished and its counter increments once a
 * second and reads back the shared window, counters and verdict history, so every replica builds
 * the same report and the same verdict, and a replica restart loses nothing.
 *
 * Per canary: two streams of pair records (judged and the others, each bounded by the window, as
 * `PairWindow` bounds them), a hash of counters, and the verdict history list. History points are
 * written by one replica at a time — a short lease, taken and checked in the same script that
 * appends — so N replicas do not write N copies of each point.
 *
 * Owner: `CanaryService`; the connection belongs to the gateway's `SharedState`.
 * @module
 */
import type { SharedState } from '../../shared-state/redis-connection.ts';
import type { VerdictPoint } from './canary-store.ts';
import type { PairRecord } from './pair-record.ts';

/** The history kept per canary (the SQLite store's report reads the newest 500 as well). */
const HISTORY_MAX = 500;

/**
 * KEYS[1] lease, KEYS[2] history. ARGV replica, lease ms, point JSON, verdict, at, every ms, max.
 * Appends when this replica holds (or takes) the lease and the verdict changed or `every` passed.
 */
const ADD_VERDICT = `
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[2]))
local last = redis.call('LINDEX', KEYS[2], -1)
if last then
  local p = cjson.decode(last)
  if p.verdict == ARGV[4] and tonumber(ARGV[5]) - tonumber(p.at) < tonumber(ARGV[6]) then return 0 end
end
redis.call('RPUSH', KEYS[2], ARGV[3])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[7]), -1)
return 1
`;

declare module 'ioredis' {
  // The type parameter must keep ioredis's own name for the declarations to merge.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  interface RedisCommander<Context> {
    voxgateCanaryVerdict(
      lease: string,
      history: string,
      replica: string,
      leaseMs: number,
      point: string,
      verdict: string,
      at: number,
      everyMs: number,
      max: number,
    ): Promise<number>;
  }
}

/** One canary as every replica sees it after a sync. */
export interface SharedCanaryView {
  /** Oldest first (by finish time, then trace id: the same order on every replica). */
  pairs: PairRecord[];
  counters: Record<string, number>;
  history: VerdictPoint[];
}

export interface CanaryPush {
  pairs: readonly PairRecord[];
  /** Counter increments by canary, then counter name. */
  counts: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

type Kind = 'judged' | 'other';
type StreamEntries = [id: string, fields: string[]][];

/** This replica's copy of one canary's shared window, and how far it has read each stream. */
interface Replica {
  judged: PairRecord[];
  other: PairRecord[];
  last: Partial<Record<Kind, string>>;
}

const kindOf = (p: PairRecord): Kind => (p.metrics === undefined ? 'other' : 'judged');
const byFinish = (a: PairRecord, b: PairRecord) => a.at - b.at || (a.traceId < b.traceId ? -1 : a.traceId > b.traceId ? 1 : 0);

export class SharedCanaryStore {
  readonly #copies = new Map<string, Replica>();

  constructor(private readonly shared: SharedState) {
    shared.bulk().defineCommand('voxgateCanaryVerdict', { numberOfKeys: 2, lua: ADD_VERDICT });
  }

  get up(): boolean {
    return this.shared.up;
  }

  #key(canary: string, part: string): string {
    return this.shared.key('canary', canary, part);
  }

  /**
   * Pushes `push`, then reads what every replica added since the last sync (one MULTI, so a
   * reader never sees half of another replica's push). Pairs live in two Redis streams per canary
   * (judged and the others, trimmed to about the window): a sync reads only the new entries, in
   * the stream's order, which is the same for every replica. Throws when Redis does not answer;
   * the caller keeps `push` for the next sync.
   */
  async sync(push: CanaryPush, canaries: readonly string[], window: number): Promise<Map<string, SharedCanaryView>> {
    const m = this.shared.bulk().multi();
    let reads = 0;
    for (const p of push.pairs) {
      m.xadd(this.#key(p.canary, kindOf(p)), 'MAXLEN', '~', window, '*', 'p', JSON.stringify(p));
      reads++;
    }
    for (const [canary, byName] of push.counts)
      for (const [name, n] of byName) {
        m.hincrby(this.#key(canary, 'counters'), name, n);
        reads++;
      }
    for (const c of canaries) {
      const copy = this.#copies.get(c);
      for (const kind of ['judged', 'other'] as const) {
        const last = copy?.last[kind];
        // First read: the newest `window` entries; afterwards only what came after the last one read.
        if (last === undefined) m.xrevrange(this.#key(c, kind), '+', '-', 'COUNT', window);
        else m.xrange(this.#key(c, kind), `(${last}`, '+');
      }
      m.hgetall(this.#key(c, 'counters'));
      m.lrange(this.#key(c, 'verdicts'), -HISTORY_MAX, -1);
    }
    const results = await m.exec();
    if (!results) throw new Error('shared canary sync aborted');
    const failed = results.find(([err]) => err);
    if (failed) throw failed[0] as Error;
    const out = new Map<string, SharedCanaryView>();
    canaries.forEach((c, i) => {
      const at = reads + i * 4;
      let copy = this.#copies.get(c);
      if (!copy) this.#copies.set(c, (copy = { judged: [], other: [], last: {} }));
      (['judged', 'other'] as const).forEach((kind, k) => {
        let entries = results[at + k]![1] as StreamEntries;
        if (copy.last[kind] === undefined) entries = entries.reverse();
        if (entries.length === 0) return;
        const list = copy[kind];
        for (const [, fields] of entries) list.push(JSON.parse(fields[1]!) as PairRecord);
        if (list.length > window) list.splice(0, list.length - window);
        copy.last[kind] = entries[entries.length - 1]![0];
      });
      const counters: Record<string, number> = {};
      for (const [name, v] of Object.entries(results[at + 2]![1] as Record<string, string>)) counters[name] = Number(v);
      const history = (results[at + 3]![1] as string[]).map((s) => JSON.parse(s) as VerdictPoint);
      out.set(c, { pairs: [...copy.judged, ...copy.other].sort(byFinish), counters, history });
    });
    return out;
  }

  /**
   * Appends a history point if this replica holds the canary's lease (or takes a free one) and
   * the verdict changed or `everyMs` passed since the last point. Resolves whether it wrote.
   */
  async addVerdict(canary: string, point: VerdictPoint, everyMs: number, leaseMs: number): Promise<boolean> {
    const wrote = await this.shared
      .bulk()
      .voxgateCanaryVerdict(
        this.#key(canary, 'lease'),
        this.#key(canary, 'verdicts'),
        this.shared.replicaId,
        leaseMs,
        JSON.stringify(point),
        point.verdict,
        point.at,
        everyMs,
        HISTORY_MAX,
      );
    return wrote === 1;
  }

  get replicaId(): string {
    return this.shared.replicaId;
  }

  failed(op: string, err: unknown): void {
    this.shared.failed(op, err);
  }
}
