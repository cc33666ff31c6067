#!/usr/bin/env node
// bench/parse: the gateway's cost of parsing one 4 MiB body (parseRecords: UTF-8 decode,
// JSON parse, refuseJsonBody), with JSON.parse as before and with the lossless parseJson
// now, on ordinary records (no run of 16 digits: the common case) and on records whose
// ids are past 2^53 (the lossless path). Median of RUNS, on one core, no services; the
// two are timed alternately, each after a full GC, so neither pays for the other's garbage.
// Usage: node --expose-gc bench/parse.mjs   (builds first)
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { build, machine, ROOT, table } from './lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
build();
const require = createRequire(import.meta.url);
const { parseRecords } = require(`${ROOT}dist/apps/ingest-gateway/src/incoming/parse-records.js`);
const { refuseJsonBody } = require(`${ROOT}dist/libs/runtime/src/index.js`);
const { parseJson } = require(`${ROOT}dist/libs/contracts/src/index.js`);

/** Today's main: the same steps with JSON.parse. */
const utf8 = new TextDecoder('utf-8', { fatal: true });
function parseRecordsBefore(body) {
  const value = JSON.parse(utf8.decode(body));
  const refused = refuseJsonBody(value, { checkStrings: true, anyKey: true });
  if (refused) throw new Error(refused);
  return value;
}

/** About 4 MiB of records shaped like a shop's webhooks; `id(n)` writes each id. */
function body(id) {
  const records = [];
  let bytes = 2;
  for (let n = 0; bytes < 4 * 1024 * 1024 - 400; n++) {
    const text = `{"id":${id(n)},"email":"customer${n}@example.com","name":"Ada Lovelace ${n}","total":${(n % 997) + 0.99},"paid":${n % 2 === 0},"created_at":"2026-11-30T01:${String(n % 60).padStart(2, '0')}:00.000Z","created_ms":${1764464400000 + n},"tags":["vip","eu"],"address":{"city":"Paris","zip":"75011"},"items":[{"sku":"A-${n}","qty":${n % 5}}]}`;
    records.push(text);
    bytes += text.length + 1;
  }
  return Buffer.from(`[${records.join(',')}]`);
}

if (!globalThis.gc) throw new Error('run with node --expose-gc');

/** Median ms of each function on the input, timed in turns. */
function medianMs(fns, input) {
  const times = fns.map(() => []);
  for (let i = 0; i < RUNS + 3; i++) {
    fns.forEach((fn, f) => {
      globalThis.gc();
      const start = process.hrtime.bigint();
      fn(input);
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (i >= 3) times[f].push(ms); // the first runs warm the JIT
    });
  }
  return times.map((t) => t.sort((a, b) => a - b)[Math.floor(t.length / 2)]);
}

const ordinary = body((n) => 100000 + n);
const bigIds = body((n) => `${9007199254740993n + BigInt(n)}`);
const after = (b) => {
  const parsed = parseRecords(b);
  if (!parsed.ok) throw new Error(parsed.error);
};
const rows = [];
for (const [name, b] of [
  ['ordinary records', ordinary],
  ['every id past 2^53', bigIds],
]) {
  const [before, now] = medianMs([parseRecordsBefore, after], b);
  const [plain, lossless] = medianMs([JSON.parse, parseJson], b.toString());
  rows.push([name, (b.length / 2 ** 20).toFixed(2), before.toFixed(1), now.toFixed(1), `${(((now - before) / before) * 100).toFixed(0)} %`, plain.toFixed(1), lossless.toFixed(1)]);
}
const report = [
  `# bench/parse — ${new Date().toISOString()}`,
  '',
  `Machine: ${machine()}. Median of ${RUNS} runs of each, timed in turns after a full GC. "before" is today's main (JSON.parse), "now" the lossless parseJson.`,
  '',
  table(['body', 'MiB', 'parseRecords before (ms)', 'parseRecords now (ms)', 'change', 'JSON.parse (ms)', 'parseJson (ms)'], rows),
  '',
].join('\n');
console.log(report);
writeFileSync(`${ROOT}/bench/results/parse.md`, report);
