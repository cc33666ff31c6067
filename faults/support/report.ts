import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FaultResult {
  name: string;
  events: number;
  expected: number;
  delivered: number;
  duplicates: number;
  lost: number;
  /** What else the scenario checked, e.g. `undeliverable 80/80`. */
  notes?: string;
  seconds: number;
}

const DIR = join(__dirname, '..', 'results');

/**
 * Prints the scenario's `FAULT ...` line and adds it to faults/results/latest.md. Each
 * test file runs in its own module registry, so the rows of this run are kept in a
 * file of the run's temporary directory (which the global teardown removes) and the
 * table is rewritten from them after every scenario: it is complete however the run ends.
 */
export function report(r: FaultResult): void {
  const line = `FAULT ${r.name}: events ${r.events}, expected deliveries ${r.expected}, delivered ${r.delivered} unique, duplicates ${r.duplicates}, lost ${r.lost}${r.notes ? `; ${r.notes}` : ''} (${r.seconds.toFixed(1)} s)`;
  console.log(line);

  const run = process.env.POSTHOOKS_TEST_RUN ?? 'unknown';
  const stateFile = join(process.env.POSTHOOKS_TEST_TLS_DIR ?? tmpdir(), `faults-${run}.json`);
  mkdirSync(DIR, { recursive: true });
  let state: { run: string; started: string; rows: FaultResult[] } = { run, started: new Date().toISOString(), rows: [] };
  if (existsSync(stateFile)) {
    const previous = JSON.parse(readFileSync(stateFile, 'utf8')) as typeof state;
    if (previous.run === run) state = previous;
  }
  state.rows = [...state.rows.filter((x) => x.name !== r.name), r];
  writeFileSync(stateFile, JSON.stringify(state, null, 2));

  const md = [
    `# npm run test:faults — run ${run}, started ${state.started}`,
    '',
    'Each scenario: its own nats-server (file storage) and database; every load event counted in, every 2xx delivery counted out at the receivers by `webhook-id`.',
    'Duplicates = 2xx answers beyond the first for the same `webhook-id` (at-least-once); lost = (event, hook) pairs that should have been delivered and were not.',
    '',
    '| scenario | events | expected deliveries | delivered (unique) | duplicates | lost | also checked | seconds |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |',
    ...state.rows.map((x) => `| ${x.name} | ${x.events} | ${x.expected} | ${x.delivered} | ${x.duplicates} | ${x.lost} | ${x.notes ?? ''} | ${x.seconds.toFixed(1)} |`),
    '',
  ].join('\n');
  writeFileSync(join(DIR, 'latest.md'), md);
}
