/**
 * The bytes one streamed response holds between the nodes and the client. Producers (segment
 * readers) add what they receive and wait while the total is over the bound; the consumer (the
 * client's writer) subtracts what it takes, which wakes them. A paused producer stops pulling its
 * node's body, so TCP back-pressure reaches the node: a slow reader costs the gateway at most the
 * bound plus one network chunk per segment in flight.
 * @module
 */
export class ByteBudget {
  #held = 0;
  #waiters: (() => void)[] = [];
  /** When the consumer last took bytes (or the budget was created). */
  lastTakenAt: number;

  constructor(
    readonly bound: number,
    private readonly now: () => number,
  ) {
    this.lastTakenAt = now();
  }

  get held(): number {
    return this.#held;
  }

  get full(): boolean {
    return this.#held > this.bound;
  }

  add(bytes: number): void {
    this.#held += bytes;
  }

  take(bytes: number): void {
    this.#held -= bytes;
    this.lastTakenAt = this.now();
    this.#wake();
  }

  /** Resolves at the consumer's next take (or `release`): waiters re-check their own condition. */
  nextTake(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Wakes every waiter (the response ended or was cancelled: they will see why). */
  release(): void {
    this.#wake();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}
