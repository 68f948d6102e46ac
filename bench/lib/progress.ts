/**
 * Progress on stderr while the benchmark runs: step k of n, elapsed time, and one line per
 * finished measurement, so a 10-minute run never looks hung.
 * @module
 */
export class Progress {
  private step = 0;
  private readonly t0 = performance.now();
  constructor(
    private total: number,
    private readonly quiet = false,
  ) {}

  addSteps(n: number): void {
    this.total += n;
  }

  private stamp(): string {
    const s = Math.round((performance.now() - this.t0) / 1000);
    return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  }

  /** A measurement starts: `[ 3/40 00:42] paced · gateway · rep 1 …` */
  begin(label: string): void {
    this.step++;
    if (!this.quiet) process.stderr.write(`[${String(this.step).padStart(3)}/${this.total} ${this.stamp()}] ${label} … `);
  }

  end(result: string): void {
    if (!this.quiet) process.stderr.write(`${result}\n`);
  }

  note(line: string): void {
    if (!this.quiet) process.stderr.write(`          ${this.stamp()}  ${line}\n`);
  }
}
