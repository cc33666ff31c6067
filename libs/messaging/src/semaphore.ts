/** Counts free slots; `acquire` waits for one. Bounds a consumer's concurrent handlers. */
export class Semaphore {
  private waiters: (() => void)[] = [];

  constructor(private free: number) {}

  get available(): number {
    return this.free;
  }

  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.free++;
  }

  /** Waits until at least one slot is free, without taking it. */
  async whenAvailable(): Promise<void> {
    await this.acquire();
    this.release();
  }
}
