import { Logger } from '@nestjs/common';
import { PeriodicTask } from './periodic-task';

describe('PeriodicTask', () => {
  it('never overlaps runs, logs a failure and keeps going, and stop waits for the run in progress', async () => {
    const warnings: string[] = [];
    const log = { warn: (m: string) => warnings.push(m) } as unknown as Logger;
    let runs = 0;
    let active = 0;
    let maxActive = 0;
    let finishRun!: () => void;
    const task = new PeriodicTask('test sweep', log, async () => {
      runs++;
      active++;
      maxActive = Math.max(maxActive, active);
      try {
        if (runs === 1) throw new Error('boom');
        await new Promise<void>((resolve) => (finishRun = resolve));
      } finally {
        active--;
      }
    });
    task.start(5);
    while (runs < 2) await new Promise((r) => setTimeout(r, 5));
    // The second run hangs: later ticks must not start a third.
    await new Promise((r) => setTimeout(r, 40));
    expect(runs).toBe(2);
    let stopped = false;
    const stopping = task.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(stopped).toBe(false);
    finishRun();
    await stopping;
    expect(maxActive).toBe(1);
    expect(warnings).toEqual(['test sweep failed: boom']);
    await new Promise((r) => setTimeout(r, 20));
    expect(runs).toBe(2);
  });

  it('runs once after firstAfterMs, long before the interval, and a stop before it cancels that run', async () => {
    const log = { warn: () => undefined } as unknown as Logger;
    let runs = 0;
    const early = new PeriodicTask('early sweep', log, async () => runs++);
    early.start(3_600_000, 5);
    while (runs < 1) await new Promise((r) => setTimeout(r, 5));
    await early.stop();

    const cancelled = new PeriodicTask('cancelled sweep', log, async () => runs++);
    cancelled.start(3_600_000, 20);
    await cancelled.stop();
    await new Promise((r) => setTimeout(r, 40));
    expect(runs).toBe(1);
  });
});
