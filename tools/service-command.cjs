// How every posthooks service is started as a process, in one place: `npm start`
// (tools/start.mjs), the end-to-end and fault tests (e2e/support/service-process.ts) and
// the benches (bench/lib.mjs) all spawn through `spawnService`, so each runs a service
// with the Node flags its image runs it with (docker/Dockerfile's CMD; e2e/deploy checks
// that the two agree). CommonJS so that both the ES-module scripts and Jest load it.
'use strict';
const { spawn } = require('node:child_process');
const { join } = require('node:path');

const ROOT = join(__dirname, '..');

/**
 * Node flags per service, beyond `--enable-source-maps` which every service gets. The
 * gateway's heap limit makes V8 collect large posts' garbage before it grows; the
 * gateway's byte budget (BODIES_IN_FLIGHT_BYTES) is sized for it: raise both together.
 */
const NODE_FLAGS = Object.freeze({ 'ingest-gateway': Object.freeze(['--max-old-space-size=192']) });

/**
 * The arguments of `node` that run `name`: flags, then `dist/apps/<name>/src/main.js` (or
 * `script`), then the script's own `args`.
 */
function nodeArgs(name, { script = `dist/apps/${name}/src/main.js`, extraFlags = [], args = [] } = {}) {
  return ['--enable-source-maps', ...extraFlags, ...(NODE_FLAGS[name] ?? []), script, ...args];
}

/**
 * Spawns `name` as `node <nodeArgs(name)>` from the repository's root, with child_process
 * options (`env`, `stdio`, `detached`...). `script` runs another file (a tool) the same way.
 */
function spawnService(name, { script, extraFlags, args, ...options } = {}) {
  return spawn(process.execPath, nodeArgs(name, { script, extraFlags, args }), { cwd: ROOT, ...options });
}

exports.NODE_FLAGS = NODE_FLAGS;
exports.nodeArgs = nodeArgs;
exports.spawnService = spawnService;
