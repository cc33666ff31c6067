import { Logger } from '@nestjs/common';
import { CustomTransportStrategy, Server } from '@nestjs/microservices';
import { DeadLetterHeaders, EventClasses, parseEvent, StreamName, Streams, Subject } from '@posthooks/contracts';
import { Consumer, ConsumerMessages, headers as natsHeaders, JetStreamClient, JsMsg, NatsConnection } from 'nats';
import { lastValueFrom } from 'rxjs';
import { JetStreamContext } from './context';
import { classifyFailure, decideFailure } from './failure';
import { handlerSeconds, messagesHandled, messageFailures } from './metrics';
import { NatsNaming } from './naming';
import { whileJetStreamForms } from './jetstream-wait';
import { provisionConsumer } from './provisioning';
import { Semaphore } from './semaphore';

export interface ConsumerOptions {
  stream: StreamName;
  /** Durable name, shared by every replica of the service so that they split the work. */
  durable: string;
  /** One logical subject; default: every subject of the stream. */
  filterSubject?: string;
  /** Handlers running at once for this consumer (default 16). 1 keeps stream order. */
  concurrency?: number;
  /** Unacked time before the server redelivers (default 30 s); slow handlers call working(). */
  ackWaitMs?: number;
  /**
   * How long a message whose handler keeps failing with real errors is retried before it
   * is dead-lettered (default 20 min, DEADLETTER_AFTER_MS). Outages (Postgres or NATS out
   * of reach, see failure.ts) and `ctx.retryIn` never count: they are retried forever.
   */
  deadLetterAfterMs?: number;
  /** First retry delay after a handler failure, doubled per delivery (default 1 s, MESSAGE_RETRY_BASE_MS)... */
  retryBaseMs?: number;
  /** ...up to this (default 1 min, MESSAGE_RETRY_MAX_MS). */
  retryMaxMs?: number;
  /**
   * Bytes of messages whose handlers are still running, above which no more are fetched
   * (default: no limit). For handlers that hold their messages (a batch waiting to be
   * loaded): `concurrency` counts messages, this bounds the memory they take. One fetch
   * may overshoot it by `fetchBatch` messages.
   */
  maxBytesInFlight?: number;
  /** Most messages asked for in one fetch (default: as many as there are free slots). */
  fetchBatch?: number;
}

export interface JetStreamTransportOptions {
  connection: NatsConnection;
  naming: NatsNaming;
  consumers: ConsumerOptions[];
  /** How long close() waits for running handlers before it lets go (default 10 s). */
  drainTimeoutMs?: number;
}

type ResolvedConsumer = Required<Omit<ConsumerOptions, 'filterSubject' | 'maxBytesInFlight' | 'fetchBatch'>> & Pick<ConsumerOptions, 'filterSubject' | 'maxBytesInFlight' | 'fetchBatch'>;

/**
 * A NestJS transport over JetStream durable pull consumers: `@EventPattern('table.loaded')`
 * handlers get the validated event and a JetStreamContext, through which they settle the
 * message: returning acks it; `ctx.retryIn(ms)` redelivers it after the delay; anything
 * that can never succeed (too large, too deep, not JSON, fails validation,
 * `ctx.deadLetter(reason)`) goes to DEADLETTER and is acked, so a bad message never blocks
 * a consumer. A handler that throws has failed, whatever it recorded on its context: it
 * is retried with capped backoff, forever while it is an outage, and until it has failed
 * for `deadLetterAfterMs` when it is a real error (failure.ts decides which).
 *
 * Register JetStreamExceptionFilter on the microservice: without it Nest hands the
 * transport "Internal server error" instead of the handler's error, and an outage
 * cannot be told from a bug.
 */
export class JetStreamTransport extends Server implements CustomTransportStrategy {
  private readonly log = new Logger('JetStreamTransport');
  private readonly js: JetStreamClient;
  private readonly consumers: ResolvedConsumer[];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly batches = new Set<ConsumerMessages>();
  private loops: Promise<void>[] = [];
  private readonly handlers = new Map<string, ReturnType<Server['getHandlerByPattern']>>();
  private readonly streaks = new FailureStreaks();
  private running = false;

  constructor(private readonly options: JetStreamTransportOptions) {
    super();
    this.js = options.connection.jetstream();
    this.consumers = options.consumers.map((c) => ({
      concurrency: 16,
      ackWaitMs: 30_000,
      deadLetterAfterMs: 20 * 60_000,
      retryBaseMs: 1000,
      retryMaxMs: 60_000,
      ...c,
    }));
  }

  async listen(callback: (err?: unknown) => void): Promise<void> {
    try {
      const jsm = await this.options.connection.jetstreamManager();
      for (const c of this.consumers) {
        await whileJetStreamForms(`consumer ${c.durable}`, () => provisionConsumer(jsm, this.options.naming, { ...c, maxAckPending: c.concurrency * 4 }));
      }
      this.running = true;
      this.loops = this.consumers.map((c) => this.pullLoop(c));
      callback();
    } catch (err) {
      callback(err);
    }
  }

  async close(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const batch of this.batches) batch.stop();
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, this.options.drainTimeoutMs ?? 10_000).unref());
    await Promise.race([Promise.allSettled([...this.loops, ...this.inFlight]), timeout]);
  }

  on(): never {
    throw new Error('JetStreamTransport has no status events; watch the NATS connection instead');
  }

  unwrap<T>(): T {
    return this.options.connection as T;
  }

  /** Nest's lookup normalizes the pattern on every call (measured ~1% of the dispatcher's CPU); subjects are few. */
  private handlerFor(subject: string) {
    if (!this.handlers.has(subject)) this.handlers.set(subject, this.getHandlerByPattern(subject));
    return this.handlers.get(subject);
  }

  private async pullLoop(c: ResolvedConsumer): Promise<void> {
    const slots = new Semaphore(c.concurrency);
    let bytesInFlight = 0;
    let bytesFreed: (() => void) | undefined;
    let consumer: Consumer | undefined;
    while (this.running) {
      try {
        consumer ??= await this.js.consumers.get(this.options.naming.stream(Streams[c.stream].name), c.durable);
        await slots.whenAvailable();
        while (c.maxBytesInFlight !== undefined && bytesInFlight >= c.maxBytesInFlight && this.running) await new Promise<void>((r) => (bytesFreed = r));
        if (!this.running) break;
        // Ask only for as many messages as there are free slots: what we hold unprocessed
        // would otherwise sit out its ack wait if this process stopped.
        const batch = await consumer.fetch({ max_messages: Math.min(slots.available, c.fetchBatch ?? Infinity), expires: 5000 });
        this.batches.add(batch);
        try {
          for await (const msg of batch) {
            if (!this.running) {
              msg.nak(); // stopping: hand it back at once rather than after ack_wait
              continue;
            }
            await slots.acquire();
            const size = msg.data.length;
            bytesInFlight += size;
            // handle() never rejects; the catch is there so that no promise of ours can go unobserved.
            const work = this.handle(c, msg)
              .catch((err: unknown) => this.log.error(`${msg.subject} #${msg.seq} (${c.durable}): ${messageOf(err)}`))
              .finally(() => {
                slots.release();
                bytesInFlight -= size;
                bytesFreed?.();
                bytesFreed = undefined;
                this.inFlight.delete(work);
              });
            this.inFlight.add(work);
          }
        } finally {
          this.batches.delete(batch);
        }
      } catch (err) {
        if (!this.running) break;
        this.log.warn(`consumer ${c.durable} on ${c.stream}: ${(err as Error).message}; retrying in 1 s`);
        consumer = undefined;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  /**
   * Settles one message, whatever happens: this promise never rejects. What goes wrong
   * outside the handler (a bug here, a connection closing under an ack) is logged and the
   * message handed back for a later delivery.
   */
  private async handle(c: ResolvedConsumer, msg: JsMsg): Promise<void> {
    try {
      await this.settle(c, msg);
    } catch (err) {
      this.log.error(`${msg.subject} #${msg.seq} (${c.durable}) could not be settled, it will be redelivered: ${messageOf(err)}`);
      try {
        msg.nak(c.retryMaxMs);
      } catch {
        // The connection is gone: the server redelivers after ack_wait.
      }
    }
  }

  private async settle(c: ResolvedConsumer, msg: JsMsg): Promise<void> {
    const subject = this.options.naming.logical(msg.subject) ?? msg.subject;
    const count = (outcome: string) => messagesHandled.inc({ consumer: c.durable, subject, outcome });

    const handler = this.handlerFor(subject);
    if (!handler) {
      // This service does not care about this subject of the stream.
      msg.ack();
      return count('ignored');
    }
    if (!(subject in EventClasses)) return this.deadLetter(c, msg, subject, `no contract for subject ${subject}`);
    let parsed: ReturnType<typeof parseEvent>;
    try {
      parsed = parseEvent(subject as Subject, msg.data);
    } catch (err) {
      // parseEvent bounds what it parses and should never throw; if it does, the message is why.
      parsed = { ok: false, reason: `could not be parsed: ${messageOf(err)}` };
    }
    if (!parsed.ok) return this.deadLetter(c, msg, subject, parsed.reason);

    const key = `${c.durable}:${msg.seq}`;
    const ctx = new JetStreamContext(msg, subject);
    const keepAlive = setInterval(() => {
      try {
        msg.working();
      } catch {
        // The connection closed under a handler still running (a drain timed out): a throw
        // here would be an uncaught exception; the server redelivers after ack_wait instead.
      }
    }, Math.max(c.ackWaitMs / 3, 100));
    const timer = handlerSeconds.startTimer({ consumer: c.durable, subject });
    let failure: { error: unknown } | undefined;
    try {
      await lastValueFrom(this.transformToObservable(await handler(parsed.event, ctx)), { defaultValue: undefined });
    } catch (error) {
      failure = { error };
    } finally {
      clearInterval(keepAlive);
      timer();
    }
    // A throw is a failure even after ctx.retryIn / ctx.deadLetter: the handler did not finish.
    if (failure) return this.failed(c, msg, subject, key, failure.error);
    // The handler decided, so none of these is a failure: each ends a failure streak.
    this.streaks.end(key);
    const settlement = ctx.settlement;
    if (settlement?.action === 'deadletter') return this.deadLetter(c, msg, subject, settlement.reason);
    if (settlement?.action === 'retry') {
      const line = `${subject} #${msg.seq} (${c.durable}) will be retried in ${settlement.delayMs} ms: ${settlement.reason}`;
      if (settlement.quiet) this.log.debug(line);
      else this.log.warn(line);
      msg.nak(settlement.delayMs);
      return count('retry');
    }
    msg.ack();
    count('ack');
  }

  /** A handler threw: retry with backoff, or dead-letter a real error that kept failing for the horizon. */
  private async failed(c: ResolvedConsumer, msg: JsMsg, subject: string, key: string, err: unknown): Promise<void> {
    const kind = classifyFailure(err);
    const reason = messageOf(err);
    const deliveries = msg.info.redeliveryCount;
    messageFailures.inc({ consumer: c.durable, subject, kind });
    const failingForMs = kind === 'outage' ? this.streaks.end(key) : this.streaks.failed(key);
    const decision = decideFailure(kind, deliveries, failingForMs, c, reason);
    if (decision.action === 'deadletter') {
      this.streaks.end(key);
      return this.deadLetter(c, msg, subject, decision.reason);
    }
    if (kind === 'error' && failingForMs === 0) this.log.error(`${subject} #${msg.seq} (${c.durable}) failed: ${stackOf(err)}`);
    this.log.warn(`${subject} #${msg.seq} (${c.durable}) will be retried in ${decision.delayMs} ms (${kind}, delivery ${deliveries}): ${reason}`);
    msg.nak(decision.delayMs);
    messagesHandled.inc({ consumer: c.durable, subject, outcome: 'retry' });
  }

  /** Moves a message to DEADLETTER with why and where from, then acks it. */
  private async deadLetter(c: ResolvedConsumer, msg: JsMsg, subject: string, reason: string): Promise<void> {
    const h = natsHeaders();
    h.set(DeadLetterHeaders.Reason, reason.replace(/[\r\n]+/g, ' ').slice(0, 1024));
    h.set(DeadLetterHeaders.OriginalSubject, subject);
    h.set(DeadLetterHeaders.OriginalStream, msg.info.stream);
    h.set(DeadLetterHeaders.OriginalSequence, String(msg.seq));
    const msgId = msg.headers?.get('Nats-Msg-Id');
    if (msgId) h.set(DeadLetterHeaders.OriginalMsgId, msgId);
    try {
      // The id makes a repeat after a crash between publish and ack a no-op.
      await this.js.publish(this.options.naming.deadLetterSubject(subject), msg.data, { msgID: `deadletter-${msg.info.stream}-${msg.seq}`, headers: h });
      msg.ack();
      messagesHandled.inc({ consumer: c.durable, subject, outcome: 'deadletter' });
      this.log.warn(`${subject} #${msg.seq} (${c.durable}) moved to DEADLETTER: ${reason}`);
    } catch (err) {
      // Never ack what we could not park: it comes back and we try again.
      this.log.error(`could not dead-letter ${subject} #${msg.seq}: ${(err as Error).message}`);
      msg.nak(5000);
    }
  }
}

function messageOf(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'message' in err && typeof err.message === 'string') return err.message;
  return String(err);
}

function stackOf(err: unknown): string {
  return err instanceof Error && err.stack ? err.stack : messageOf(err);
}

/**
 * When each message this process handles started failing with real errors, delivery
 * after delivery. In memory: a restart, or a redelivery to another replica, starts the
 * count again, which can only make a message wait longer before it is dead-lettered,
 * never lose it. Entries of messages that went elsewhere are swept.
 */
class FailureStreaks {
  private readonly since = new Map<string, { first: number; last: number }>();
  private lastSweep = Date.now();

  /** Records a real failure; how long the streak has lasted (0 for its first failure). */
  failed(key: string, now = Date.now()): number {
    this.sweep(now);
    const streak = this.since.get(key) ?? { first: now, last: now };
    streak.last = now;
    this.since.set(key, streak);
    return now - streak.first;
  }

  /** Ends a streak (success, outage, retry requested, dead-lettered); 0. */
  end(key: string): number {
    this.since.delete(key);
    return 0;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    // A streak not seen for an hour went to another replica (or was settled there).
    for (const [key, streak] of this.since) if (now - streak.last > 3_600_000) this.since.delete(key);
  }
}
