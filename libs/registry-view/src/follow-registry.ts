import { Logger } from '@nestjs/common';
import { parseEvent, Streams, Subject } from '@posthooks/contracts';
import { NatsNaming } from '@posthooks/messaging';
import { ConsumerMessages, NatsConnection } from 'nats';
import { Gauge } from 'prom-client';
import { RegistryView } from './registry-view';

const viewSequence = new Gauge({
  name: 'posthooks_registry_view_sequence',
  help: 'Last REGISTRY stream sequence applied to this service\'s view (compare with the stream\'s last sequence for the lag)',
});

export interface RegistryFollower {
  /** Resolves once every event that was in the stream at start has been applied. */
  caughtUp: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Fills a view from the REGISTRY stream and keeps it current. It reads from the first
 * message with an ordered consumer (ephemeral, in order, no acks), so a service that
 * restarts rebuilds its view from the stream alone.
 */
export async function followRegistry(nc: NatsConnection, naming: NatsNaming, view: RegistryView): Promise<RegistryFollower> {
  const log = new Logger('RegistryView');
  const stream = naming.stream(Streams.REGISTRY.name);
  const jsm = await nc.jetstreamManager();
  const lastAtStart = (await jsm.streams.info(stream)).state.last_seq;
  const consumer = await nc.jetstream().consumers.get(stream);
  const messages: ConsumerMessages = await consumer.consume();

  let caughtUpResolve!: () => void;
  const caughtUp = new Promise<void>((resolve) => (caughtUpResolve = resolve));
  if (lastAtStart === 0) caughtUpResolve();

  const done = (async () => {
    for await (const msg of messages) {
      const subject = naming.logical(msg.subject) as Subject;
      const parsed = parseEvent(subject, msg.data);
      // The registry validates before publishing; anything else here is not ours to act on.
      if (parsed.ok) view.apply(subject, parsed.event as Parameters<RegistryView['apply']>[1]);
      else log.warn(`skipped REGISTRY #${msg.seq}: ${parsed.reason}`);
      viewSequence.set(msg.seq);
      if (msg.seq >= lastAtStart) caughtUpResolve();
    }
  })();

  return {
    caughtUp,
    async stop() {
      messages.stop();
      await done;
    },
  };
}
