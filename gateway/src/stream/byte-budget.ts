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
  #closed = false;
  #waiters: (() => void)[] = [];
  constructor(
    readonly bound: number,
    /** Told every change (a gauge of the bytes all responses hold). */
    private readonly onChange: (delta: number) => void = () => undefined,
  ) {}

  get held(): number {
    return this.#held;
  }

  get full(): boolean {
    return this.#held > this.bound;
  }

  add(bytes: number): void {
    if (this.#closed) return;
    this.#held += bytes;
    this.onChange(bytes);
  }

  take(bytes: number): void {
    if (this.#closed) return this.#wake();
    this.#held -= bytes;
    this.onChange(-bytes);
    this.#wake();
  }

  /** Gives back whatever is still held and stops counting (the response ended or was cancelled). */
  drain(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#held !== 0) this.onChange(-this.#held);
    this.#held = 0;
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
