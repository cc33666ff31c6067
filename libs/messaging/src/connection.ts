import { redactUrl } from '@posthooks/config';
import { connect, ErrorCode, NatsConnection, NatsError } from 'nats';
import { whileJetStreamForms } from './jetstream-wait';
import { NatsAuthOptions } from './nats-auth';

export const NATS_START_HINT =
  'start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log';

/**
 * Connects once, failing fast with the URL when the server is not there (a service must
 * not start without NATS); after that the client reconnects by itself, forever. A
 * JetStream that is there but not yet answering (a cluster still electing its leader) is
 * waited for (whileJetStreamForms); one that is not enabled at all fails at once. `auth`
 * (see natsAuthOptions) holds credentials: it is never part of an error message.
 */
export async function connectNats(url: string, name: string, auth: NatsAuthOptions = {}): Promise<NatsConnection> {
  try {
    // Replies (and so the messages of this service's consumers) arrive on an inbox of its
    // own: a NATS user allowed `_INBOX_<name>.>` cannot read another service's.
    const nc = await connect({ servers: url.split(','), name, inboxPrefix: inboxPrefixOf(name), timeout: 5000, maxReconnectAttempts: -1, reconnectTimeWait: 1000, waitOnFirstConnect: false, ...auth });
    const jsm = await nc.jetstreamManager({ checkAPI: false });
    await whileJetStreamForms('connecting', () => jsm.getAccountInfo()).catch(async (err: Error) => {
      await nc.close();
      // A server without JetStream accepts the connection but cannot hold any stream.
      if (err instanceof NatsError && err.code === ErrorCode.NoResponders) throw new Error(`JetStream is not enabled (${err.message}); start nats-server with -js`);
      throw err;
    });
    return nc;
  } catch (err) {
    throw new Error(`NATS is not reachable at ${redactUrl(url)}: ${(err as Error).message}. To run it locally: ${NATS_START_HINT}`);
  }
}

/** `_INBOX_<service>`: what k8s/base/nats/permissions.conf lets each service subscribe to (with `.>`). */
export function inboxPrefixOf(name: string): string {
  return `_INBOX_${name}`;
}
