import { nkeys } from 'nats';

/**
 * A NATS .creds file for a new user nkey: its JWT (signed by a throwaway account key)
 * and its seed, the format `nsc` writes and NATS_CREDS reads. A server in configuration
 * mode authenticates the user by its public key (an `nkey` user) and takes permissions
 * from its configuration; the JWT matters only to a server in operator mode.
 */
export function natsUserCreds(name: string): { publicKey: string; creds: string } {
  const user = nkeys.createUser();
  const account = nkeys.createAccount();
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const header = b64({ typ: 'JWT', alg: 'ed25519-nkey' });
  const claims = b64({ jti: name, iat: Math.floor(Date.now() / 1000), iss: account.getPublicKey(), name, sub: user.getPublicKey(), nats: { pub: {}, sub: {}, subs: -1, data: -1, payload: -1, type: 'user', version: 2 } });
  const signature = Buffer.from(account.sign(new Uint8Array(Buffer.from(`${header}.${claims}`)))).toString('base64url');
  const seed = Buffer.from(user.getSeed()).toString();
  return {
    publicKey: user.getPublicKey(),
    creds: `-----BEGIN NATS USER JWT-----\n${header}.${claims}.${signature}\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n`,
  };
}
