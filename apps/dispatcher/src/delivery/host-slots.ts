import { Semaphore } from '@posthooks/messaging';

/**
 * Bounds the deliveries in flight to one host: a semaphore per host. A claimed delivery
 * waits a moment for a slot of its host (they free up in milliseconds when the host is
 * healthy); if none comes, it is given back to Postgres, due as it was, rather than
 * holding a slot of DELIVERY_CONCURRENCY other endpoints need.
 */
export class HostSlots {
  private readonly hosts = new Map<string, Semaphore>();

  constructor(private readonly perHost: number) {}

  /** Takes a slot of `host`, waiting at most `waitMs`; false if none came free. */
  take(host: string, waitMs: number): Promise<boolean> {
    let slots = this.hosts.get(host);
    if (!slots) this.hosts.set(host, (slots = new Semaphore(this.perHost)));
    return slots.acquireWithin(waitMs);
  }

  /** Frees a slot: handed straight to the next waiter of that host, if any. */
  release(host: string): void {
    const slots = this.hosts.get(host);
    if (!slots) return;
    slots.release();
    // All free means nobody waits either: forget the host.
    if (slots.available === this.perHost) this.hosts.delete(host);
  }
}
