import { Logger } from '@nestjs/common';
import { DeadLetterHeaders, EventClasses, parseEvent, Streams, Subject } from '@posthooks/contracts';
import { NatsNaming } from '@posthooks/messaging';
import { ConsumerMessages, headers as natsHeaders, JsMsg, NatsConnection } from 'nats';
import { Counter, Gauge } from 'prom-client';
import { RegistryView } from './registry-view';

const viewSequence = new Gauge({
  name: 'posthooks_registry_view_sequence',
  help: 'Last REGISTRY stream sequence applied to this service\'s view (compare with the stream\'s last sequence for the lag)',
});

const skippedEvents = new Counter({
  name: 'posthooks_registry_events_skipped_total',
  help: 'REGISTRY messages this service could not apply (too large, too deep, not JSON, invalid, or refused by the view) and skipped',
});

/**
 * Window within which a skipped message is also dead-lettered: the stream's Nats-Msg-Id
 * de-duplication window (2 min), so the services that meet it at about the same time
 * (when it arrives, or a start just after) park it once between them.
 */
const DEADLETTER_WITHIN_MS = 2 * 60 * 1000;

export interface RegistryFollower {
  /** Resolves once every event that was in the stream at start has been applied. */
  caughtUp: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Fills a view from the REGISTRY stream and keeps it current. It reads from the first
 * message with an ordered consumer (ephemeral, in order, no acks), so a service that
 * restarts rebuilds its view from the stream alone.
 *
 * `subjects` narrows what the view reads to those logical subjects (each with any object
 * id after it, `registry.api_key.changed.*`), one ordered consumer each (nats-server 2.9
 * has one filter per consumer): a service whose NATS user may only
 * create consumers on those (the ingest-gateway, k8s/base/nats/permissions.conf) never
 * receives the others. Each object's events stay in order, which is all the view needs
 * (each event carries its object's full state). Without `subjects`, the whole stream.
 *
 * Every service reads every REGISTRY message at every start, so none may stop the view:
 * one that cannot be applied is skipped with a log line and a metric, and the view goes
 * on with the next. Older than the de-duplication window, it was dead-lettered when it
 * was new (or nothing was running then): only the log line and the metric.
 */
export async function followRegistry(nc: NatsConnection, naming: NatsNaming, view: RegistryView, subjects?: readonly Subject[]): Promise<RegistryFollower> {
  const log = new Logger('RegistryView');
  const stream = naming.stream(Streams.REGISTRY.name);
  const jsm = await nc.jetstreamManager();
  const js = nc.jetstream();

  const skip = (msg: JsMsg, subject: string, reason: string) => {
    skippedEvents.inc();
    log.warn(`skipped REGISTRY #${msg.seq} (${subject}): ${reason}`);
    if (Date.now() - msg.info.timestampNanos / 1e6 > DEADLETTER_WITHIN_MS) return;
    const h = natsHeaders();
    h.set(DeadLetterHeaders.Reason, reason.replace(/[\r\n]+/g, ' ').slice(0, 1024));
    h.set(DeadLetterHeaders.OriginalSubject, subject);
    h.set(DeadLetterHeaders.OriginalStream, stream);
    h.set(DeadLetterHeaders.OriginalSequence, String(msg.seq));
    const msgId = msg.headers?.get('Nats-Msg-Id');
    if (msgId) h.set(DeadLetterHeaders.OriginalMsgId, msgId);
    // The transport's id for the same message: one dead letter however many services skip it.
    js.publish(naming.deadLetterSubject(subject), msg.data, { msgID: `deadletter-${stream}-${msg.seq}`, headers: h }).catch((err: Error) => log.warn(`could not dead-letter REGISTRY #${msg.seq}: ${err.message}`));
  };

  const apply = (msg: JsMsg) => {
    const subject = naming.logical(msg.subject) ?? msg.subject;
    try {
      if (subject in EventClasses) {
        const parsed = parseEvent(subject as Subject, msg.data);
        // The registry validates before publishing; anything else here is not ours to act on.
        if (parsed.ok) view.apply(subject, parsed.event as Parameters<RegistryView['apply']>[1]);
        else skip(msg, subject, parsed.reason);
      } else {
        // A newer registry's event: not for this version to act on, nor to park.
        skippedEvents.inc();
        log.warn(`skipped REGISTRY #${msg.seq}: no contract for subject ${subject}`);
      }
    } catch (err) {
      skip(msg, subject, `could not be applied: ${(err as Error).message}`);
    }
    // Several consumers (one per subject) each deliver in order, not with each other.
    view.sequence = Math.max(view.sequence, msg.seq);
    viewSequence.set(view.sequence);
  };

  const follow = async (filter: string | undefined, caughtUpAfter: (msg: JsMsg) => boolean, caughtUpResolve: () => void): Promise<() => Promise<void>> => {
    const consumer = await js.consumers.get(stream, filter ? { filterSubjects: filter } : {});
    const messages: ConsumerMessages = await consumer.consume();
    const done = (async () => {
      for await (const msg of messages) {
        apply(msg);
        if (caughtUpAfter(msg)) caughtUpResolve();
      }
    })();
    // The loop ends only when stopped; should the client fail it, say so rather than leave the rejection unobserved.
    done.catch((err: Error) => log.error(`stopped following REGISTRY${filter ? ` (${filter})` : ''}: ${err.message}`));
    return async () => {
      messages.stop();
      await done.catch(() => undefined);
    };
  };

  const stops: (() => Promise<void>)[] = [];
  const caughtUps: Promise<void>[] = [];
  const start = async (filter: string | undefined, messagesAtStart: number, caughtUpAfter: (msg: JsMsg) => boolean) => {
    let caughtUpResolve!: () => void;
    caughtUps.push(new Promise<void>((resolve) => (caughtUpResolve = resolve)));
    if (messagesAtStart === 0) caughtUpResolve();
    stops.push(await follow(filter, caughtUpAfter, caughtUpResolve));
  };
  if (subjects === undefined) {
    const lastAtStart = (await jsm.streams.info(stream)).state.last_seq;
    await start(undefined, lastAtStart, (msg) => msg.seq >= lastAtStart);
  } else {
    for (const subject of subjects) {
      // Every object of the kind: each is on its own subject (`registry.api_key.changed.42`).
      const filter = `${naming.subject(subject)}.*`;
      const state = (await jsm.streams.info(stream, { subjects_filter: filter })).state;
      const atStart = Object.values(state.subjects ?? {}).reduce((sum, n) => sum + n, 0);
      // Caught up once a message has none pending after it: all that was there at start is applied.
      await start(filter, atStart, (msg) => msg.info.pending === 0);
    }
  }

  return {
    caughtUp: Promise.all(caughtUps).then(() => undefined),
    async stop() {
      await Promise.all(stops.map((stop) => stop()));
    },
  };
}
