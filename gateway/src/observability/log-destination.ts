/**
 * Where the gateway's log lines go by default: stdout, one write(2) per event-loop turn.
 *
 * pino's default destination writes each line with its own write(2): one syscall per request
 * for the access log. Batching them saved 7–16 % of the main thread's CPU per request at c=32
 * (gateway bench, same-run A/B). pino's asynchronous mode saves as much under load, but hands every
 * write to the libuv thread pool, and one request at a time that round trip cost more than the
 * syscall did (+46 % CPU per request at c=1). Here
 * lines written during one turn of the event loop collect in sonic-boom's buffer and go out
 * together at the end of that turn (setImmediate), or as soon as 8 KiB are waiting. No line waits
 * longer than the turn it was logged in; what is pending at exit is written before the process
 * ends.
 * @module
 */
import type { DestinationStream } from 'pino';
import sonicBoom from 'sonic-boom';

// A CommonJS module: Node's ESM loader sees only its default export, the class, which also
// carries itself as `.SonicBoom` (what the type declarations describe).
const { SonicBoom } = sonicBoom;

const BATCH_BYTES = 8 * 1024;

class TurnBatchedDestination implements DestinationStream {
  readonly #boom: InstanceType<typeof SonicBoom>;
  #scheduled = false;
  /** The reader went away (EPIPE): lines are dropped from then on. */
  #broken = false;
  readonly #flush = () => {
    this.#scheduled = false;
    if (!this.#broken) this.#boom.flush();
  };

  constructor(fd: number) {
    this.#boom = new SonicBoom({ fd, sync: true, minLength: BATCH_BYTES });
    // As pino's own stdout destination: a log reader that went away ends logging, not the
    // gateway; any other write error is thrown.
    this.#boom.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      this.#broken = true;
    });
    process.once('exit', () => {
      if (!this.#broken) this.#boom.flushSync();
    });
  }

  write(line: string): void {
    if (this.#broken) return;
    this.#boom.write(line);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#flush);
  }

  /** pino's `logger.flush()`. */
  flush(cb?: (err?: Error) => void): void {
    this.#boom.flush(cb);
  }
}

let stdout: TurnBatchedDestination | undefined;

/** The process's one stdout destination (shared, so its exit hook is registered once). */
export function stdoutDestination(): DestinationStream {
  stdout ??= new TurnBatchedDestination(1);
  return stdout;
}
