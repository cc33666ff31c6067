/** How a wait for bytes ended: granted, given up after `timeoutMs`, or abandoned by its request. */
export type BudgetWait = 'granted' | 'timeout' | 'aborted';

interface Waiter {
  bytes: number;
  done: (outcome: BudgetWait) => void;
}

/**
 * A budget of bytes shared by concurrent requests: `take(n)` waits until n bytes are
 * free (first come, first served), `give(n)` returns them. A request larger than the
 * whole budget gets it alone.
 *
 * A wait is bounded: it ends at `timeoutMs`, or as soon as `signal` aborts (the client
 * went away), and a wait that ends so leaves the queue and holds nothing: only a
 * `granted` take is to be given back. A waiter that could never be answered must not
 * keep its place, or its bytes, for ever.
 */
export class ByteBudget {
  private used = 0;
  private readonly waiting: Waiter[] = [];

  constructor(private readonly total: number) {}

  take(bytes: number, { timeoutMs = Infinity, signal }: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<BudgetWait> {
    if (signal?.aborted) return Promise.resolve('aborted');
    const n = this.clamp(bytes);
    if (this.waiting.length === 0 && this.used + n <= this.total) {
      this.used += n;
      return Promise.resolve('granted');
    }
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = {
        bytes: n,
        done: (outcome) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(outcome);
        },
      };
      const leave = (outcome: BudgetWait) => {
        const at = this.waiting.indexOf(waiter);
        if (at < 0) return; // already granted
        this.waiting.splice(at, 1);
        waiter.done(outcome);
        // The head of the queue may have been all that held the others back.
        this.grant();
      };
      const onAbort = () => leave('aborted');
      if (Number.isFinite(timeoutMs)) timer = setTimeout(() => leave('timeout'), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  give(bytes: number): void {
    this.used -= this.clamp(bytes);
    this.grant();
  }

  /** Requests waiting for bytes. */
  get waiters(): number {
    return this.waiting.length;
  }

  /** Bytes taken and not given back. */
  get inUse(): number {
    return this.used;
  }

  private clamp(bytes: number): number {
    return Math.min(bytes, this.total);
  }

  private grant(): void {
    while (this.waiting.length > 0 && this.used + this.waiting[0].bytes <= this.total) {
      const next = this.waiting.shift()!;
      this.used += next.bytes;
      next.done('granted');
    }
  }
}
