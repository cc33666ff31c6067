import { handleProcessFailures, unhandledRejections } from './process-failures';

describe('handleProcessFailures', () => {
  it('logs and counts a rejection nobody awaited and goes on; logs an uncaught exception and exits 1', async () => {
    const before = { rejection: process.listeners('unhandledRejection'), exception: process.listeners('uncaughtException') };
    const logged: string[] = [];
    handleProcessFailures({ error: (message) => logged.push(message), fatal: (message) => logged.push(message) });
    const ours = {
      rejection: process.listeners('unhandledRejection').filter((l) => !before.rejection.includes(l)),
      exception: process.listeners('uncaughtException').filter((l) => !before.exception.includes(l)),
    };
    const exit = jest.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    try {
      const start = (await unhandledRejections.get()).values[0]?.value ?? 0;
      // Node calls the listener with the reason and the promise (Jest keeps real unhandled rejections to itself).
      expect(ours.rejection).toHaveLength(1);
      ours.rejection[0](new Error('handler promise nobody awaited'), Promise.resolve());
      expect((await unhandledRejections.get()).values[0]?.value).toBe(start + 1);
      expect(logged).toEqual([expect.stringMatching(/^unhandled promise rejection \(the service goes on\): Error: handler promise nobody awaited\n\s+at /)]);
      expect(exit).not.toHaveBeenCalled();

      // An uncaught exception: logged as fatal, then exit 1 (the process's state is no longer known).
      ours.exception[0](new Error('thrown out of a timer'), 'uncaughtException');
      expect(logged[1]).toMatch(/^uncaught exception, exiting: Error: thrown out of a timer/);
      expect(exit).toHaveBeenCalledWith(1);
    } finally {
      exit.mockRestore();
      for (const l of ours.rejection) process.off('unhandledRejection', l);
      for (const l of ours.exception) process.off('uncaughtException', l);
    }
  });
});
