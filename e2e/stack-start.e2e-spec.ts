import { PrivateNatsServer } from '@posthooks/testing';
import { FaultStack } from '../faults/support/fault-stack';
import { ServiceProcess } from './support/service-process';
import { Stack } from './support/stack';

/** Whether a process with this id still exists (signal 0 only checks). */
function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/** A start that fails must not leave processes behind: Jest would hang on them and they would hold ports. */
describe('a start where one service never gets ready', () => {
  /** Every process spawned since `before` has exited, and no process with its id is left. */
  function expectAllGone(before: number, names: string[]): void {
    const spawned = ServiceProcess.spawned.slice(before);
    expect(spawned.map((s) => s.name).sort()).toEqual([...names].sort());
    for (const s of spawned) {
      expect(s.ended).toBeDefined();
      expect({ name: s.name, alive: alive(s.pid) }).toEqual({ name: s.name, alive: false });
    }
  }

  it("Stack.start fails with that service's output and stops every process it spawned", async () => {
    const before = ServiceProcess.spawned.length;
    // The notifier refuses the setting and exits; the other four are up or on their way.
    const start = Stack.start('e2e_start_fails', { 'email-notifier': { NATS_STREAM_REPLICAS: 'three' } });
    await expect(start).rejects.toThrow(/email-notifier exited with code 1 before it was ready; its output:\n[\s\S]*NATS_STREAM_REPLICAS/);
    expectAllGone(before, ['dispatcher', 'email-notifier', 'hook-registry', 'ingest-gateway', 'load-simulator']);
  });

  it('FaultStack.start does the same', async () => {
    const nats = await PrivateNatsServer.start();
    try {
      const before = ServiceProcess.spawned.length;
      const start = FaultStack.start('e2e_faultstack_fails', nats, { services: ['dispatcher', 'email-notifier'], overrides: { 'email-notifier': { NATS_STREAM_REPLICAS: 'three' } } });
      await expect(start).rejects.toThrow(/email-notifier exited with code 1 before it was ready; its output:\n[\s\S]*NATS_STREAM_REPLICAS/);
      expectAllGone(before, ['dispatcher', 'email-notifier', 'hook-registry']);
    } finally {
      await nats.dispose();
    }
  });
});
