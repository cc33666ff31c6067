// The throwaway CA of `npm start`'s demo receiver, kept in .demo/tls (git-ignored). The
// dispatcher trusts it through NODE_EXTRA_CA_CERTS, in development only.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { createThrowawayCa } = require('../libs/testing/src/tls/throwaway-ca.js');

export function demoTls() {
  return createThrowawayCa(fileURLToPath(new URL('../.demo/tls', import.meta.url)));
}

/**
 * A file for NODE_EXTRA_CA_CERTS that adds the demo CA to what the variable already
 * names (some machines point it at the system bundle; it takes a single file).
 */
export function withDemoCa(existing) {
  const { ca } = demoTls();
  if (!existing || existing === ca) return ca;
  const bundle = fileURLToPath(new URL('../.demo/tls/extra-ca-bundle.pem', import.meta.url));
  writeFileSync(bundle, `${readFileSync(existing, 'utf8').trimEnd()}\n${readFileSync(ca, 'utf8')}`);
  return bundle;
}
