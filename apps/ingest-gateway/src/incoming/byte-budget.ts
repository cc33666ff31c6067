/**
 * A budget of bytes shared by concurrent requests: `take(n)` waits until n bytes are
 * free (first come, first served), `give(n)` returns them. A request larger than the
 * whole budget gets it alone.
 */
export class ByteBudget {
  private used = 0;
  private readonly waiting: { bytes: number; go: () => void }[] = [];

  constructor(private readonly total: number) {}

  async take(bytes: number): Promise<void> {
    const n = Math.min(bytes, this.total);
    if (this.waiting.length === 0 && this.used + n <= this.total) {
      this.used += n;
      return;
    }
    await new Promise<void>((go) => this.waiting.push({ bytes: n, go }));
  }

  give(bytes: number): void {
    this.used -= Math.min(bytes, this.total);
    while (this.waiting.length > 0 && this.used + this.waiting[0].bytes <= this.total) {
      const next = this.waiting.shift()!;
      this.used += next.bytes;
      next.go();
    }
  }
}
