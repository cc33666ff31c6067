import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** tools/log-lines.mjs (ESM, run by `npm start`), called in a Node process of its own. */
function readable(service: string, line: string, colors: boolean): string {
  const script = `import { readableLine } from ${JSON.stringify(join(__dirname, '..', 'tools', 'log-lines.mjs'))};
process.stdout.write(readableLine(process.argv[1], process.argv[2], { colors: process.argv[3] === 'true', now: 0 }));`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', script, service, line, String(colors)], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
}

/** Issue 18 item 11: `npm start` prints readable lines in development; the services keep writing JSON. */
describe("npm start's readable log lines", () => {
  const at = Date.UTC(2026, 10, 30, 9, 5, 7, 42);

  it('shows time, service, level, context and message of a JSON log line', () => {
    const line = JSON.stringify({ level: 'warn', pid: 1, timestamp: at, message: 'claims fail', context: 'DeliveryScheduler', service: 'dispatcher' });
    expect(readable('dispatcher', line, false)).toBe('09:05:07.042 dispatcher     WARN    [DeliveryScheduler] claims fail');
  });

  it('indents a stack under its line, and colours the level on a terminal', () => {
    const line = JSON.stringify({ level: 'error', timestamp: at, message: 'boom', context: 'X', stack: 'Error: boom\n    at f (a.js:1:1)' });
    expect(readable('hook-registry', line, false)).toBe('09:05:07.042 hook-registry  ERROR   [X] boom\n    Error: boom\n        at f (a.js:1:1)');
    expect(readable('hook-registry', line, true)).toContain('\x1b[31mERROR  \x1b[0m');
  });

  it('shows a line that is not a JSON log object as it is', () => {
    expect(readable('demo-receiver', 'demo receiver on https://localhost:4000/', false)).toBe('00:00:00.000 demo-receiver  demo receiver on https://localhost:4000/');
    expect(readable('maildev', '{"not":"a log line"}', false)).toBe('00:00:00.000 maildev        {"not":"a log line"}');
  });
});
