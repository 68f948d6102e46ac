/**
 * A two-threshold latch: it turns on when the enter condition holds and off only when the exit
 * condition holds, so a value hovering at one threshold does not flap the decision.
 * @module
 */
export class Latch {
  on = false;
  /** Feeds one observation; returns the (possibly new) state. */
  update(enter: boolean, exit: boolean): boolean {
    if (!this.on && enter) this.on = true;
    else if (this.on && exit) this.on = false;
    return this.on;
  }
}

/** Latches by name, created off. */
export class Latches {
  private readonly map = new Map<string, Latch>();
  get(name: string): Latch {
    let l = this.map.get(name);
    if (!l) {
      l = new Latch();
      this.map.set(name, l);
    }
    return l;
  }
  snapshot(): Record<string, boolean> {
    return Object.fromEntries([...this.map].map(([k, v]) => [k, v.on]));
  }
}
