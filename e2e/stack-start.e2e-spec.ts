import { Stack } from './support/stack';
import { ServiceProcess } from './support/service-process';

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
describe('Stack.start when a service never gets ready', () => {
  it("fails with that service's output and stops every process it spawned", async () => {
    const before = ServiceProcess.spawned.length;
    // The notifier refuses the setting and exits; the other four are up or on their way.
    const start = Stack.start('e2e_start_fails', { 'email-notifier': { NATS_STREAM_REPLICAS: 'three' } });
    await expect(start).rejects.toThrow(/email-notifier exited with code 1 before it was ready; its output:\n[\s\S]*NATS_STREAM_REPLICAS/);

    const spawned = ServiceProcess.spawned.slice(before);
    expect(spawned.map((s) => s.name).sort()).toEqual(['dispatcher', 'email-notifier', 'hook-registry', 'ingest-gateway', 'load-simulator']);
    for (const s of spawned) {
      expect(s.ended).toBeDefined();
      expect({ name: s.name, alive: alive(s.pid) }).toEqual({ name: s.name, alive: false });
    }
  });
});
