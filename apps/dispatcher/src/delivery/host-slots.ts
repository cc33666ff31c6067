/**
 * Bounds the deliveries in flight to one host. A delivery waits a moment for a slot of
 * its host (they free up in milliseconds when the host is healthy); if none comes, it is
 * handed back to JetStream rather than holding a consumer slot other endpoints need.
 */
export class HostSlots {
  private readonly inFlight = new Map<string, number>();
  private readonly queues = new Map<string, (() => void)[]>();

  constructor(private readonly perHost: number) {}

  /** Takes a slot of `host`, waiting at most `waitMs`; false if none came free. */
  async take(host: string, waitMs: number): Promise<boolean> {
    const n = this.inFlight.get(host) ?? 0;
    if (n < this.perHost) {
      this.inFlight.set(host, n + 1);
      return true;
    }
    return new Promise<boolean>((resolve) => {
      const queue = this.queues.get(host) ?? [];
      this.queues.set(host, queue);
      const granted = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        queue.splice(queue.indexOf(granted), 1);
        resolve(false);
      }, waitMs);
      queue.push(granted);
    });
  }

  /** Frees a slot: handed straight to the next waiter of that host, if any. */
  release(host: string): void {
    const next = this.queues.get(host)?.shift();
    if (next) return next();
    const n = (this.inFlight.get(host) ?? 1) - 1;
    if (n <= 0) {
      this.inFlight.delete(host);
      this.queues.delete(host);
    } else this.inFlight.set(host, n);
  }
}
