/**
 * Bounds the deliveries in flight to one host. A delivery that finds its host's slots
 * taken does not wait (it would hold a consumer slot other endpoints need): it is handed
 * back to JetStream for a moment instead.
 */
export class HostSlots {
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly perHost: number) {}

  tryTake(host: string): boolean {
    const n = this.inFlight.get(host) ?? 0;
    if (n >= this.perHost) return false;
    this.inFlight.set(host, n + 1);
    return true;
  }

  release(host: string): void {
    const n = (this.inFlight.get(host) ?? 1) - 1;
    if (n <= 0) this.inFlight.delete(host);
    else this.inFlight.set(host, n);
  }
}
