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

  /** Takes a slot, waiting at most `waitMs`; false if none came free in time. */
  async acquireWithin(waitMs: number): Promise<boolean> {
    if (this.free > 0) {
      this.free--;
      return true;
    }
    return new Promise<boolean>((resolve) => {
      const granted = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(granted), 1);
        resolve(false);
      }, waitMs);
      this.waiters.push(granted);
    });
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
