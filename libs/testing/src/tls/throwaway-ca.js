// A throwaway certificate authority and certificates for local HTTPS receivers (tests,
// `npm start`'s demo receiver, the benches), made with the openssl CLI. `trusted.pem`
// is signed by the CA (trust it with NODE_EXTRA_CA_CERTS=ca.pem); `untrusted.pem` is
// self-signed, for the "bad certificate" case. Both name localhost, 127.0.0.1 and ::1.
const { execFileSync } = require('node:child_process');
const { existsSync, mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const SAN = 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1';

function createThrowawayCa(dir) {
  mkdirSync(dir, { recursive: true });
  const file = (name) => join(dir, name);
  if (existsSync(file('trusted.pem'))) return paths(dir);
  const openssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl('req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '30', '-subj', '/CN=posthooks throwaway CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl('req', ...EC, '-keyout', 'trusted.key', '-out', 'trusted.csr', '-subj', '/CN=localhost');
  writeFileSync(file('trusted.ext'), `${SAN}\nextendedKeyUsage=serverAuth\n`);
  openssl('x509', '-req', '-in', 'trusted.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'trusted.pem', '-days', '30', '-extfile', 'trusted.ext');
  openssl('req', '-x509', ...EC, '-keyout', 'untrusted.key', '-out', 'untrusted.pem', '-days', '30', '-subj', '/CN=localhost', '-addext', SAN);
  return paths(dir);
}

function paths(dir) {
  return {
    ca: join(dir, 'ca.pem'),
    trusted: { cert: join(dir, 'trusted.pem'), key: join(dir, 'trusted.key') },
    untrusted: { cert: join(dir, 'untrusted.pem'), key: join(dir, 'untrusted.key') },
  };
}

module.exports = { createThrowawayCa, throwawayCaPaths: paths };
