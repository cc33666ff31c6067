#!/usr/bin/env node
// The npm registry this project is built from lacks some platform binaries that
// packages list as optional (e.g. @swc/core-darwin-arm64). `npm install` skips them and
// leaves them out of package-lock.json, and `npm ci` then refuses the lock ("Missing:
// ... from lock file"). This drops such optional dependencies from the lock entries that
// name them, so `npm ci` works. Run it after every `npm install` (`npm run lock:prune`).
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const pruned = [];
for (const [path, entry] of Object.entries(lock.packages)) {
  if (!entry.optionalDependencies) continue;
  for (const name of Object.keys(entry.optionalDependencies)) {
    // npm resolves a dependency in the nearest node_modules up the tree.
    const candidates = [];
    for (let dir = path; ; dir = dir.slice(0, dir.lastIndexOf('/node_modules/'))) {
      candidates.push(`${dir ? `${dir}/` : ''}node_modules/${name}`);
      if (!dir.includes('/node_modules/')) {
        candidates.push(`node_modules/${name}`);
        break;
      }
    }
    if (!candidates.some((c) => c in lock.packages)) {
      delete entry.optionalDependencies[name];
      pruned.push(`${path} → ${name}`);
    }
  }
}
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(pruned.length ? `pruned ${pruned.length} unavailable optional dependencies from package-lock.json` : 'package-lock.json needs no pruning');
