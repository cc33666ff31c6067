import { Streams, Subjects } from '@posthooks/contracts';
import { NatsNaming, STREAM_FULL_RETRY_SECONDS } from '@posthooks/messaging';
import type { JetStreamManager } from 'nats';

/** An integration holds its share of INGEST already: its posts wait (503) while others go on. */
export class OverShare extends Error {
  readonly retryAfterSeconds = STREAM_FULL_RETRY_SECONDS;
  constructor() {
    super('this integration has too many records waiting to be loaded; retry later');
  }
}

/** Ratio between size classes: a message's class tells its bytes within 25 %. */
const CLASS_RATIO = 1.25;

/** The size class of a message of `bytes` (the key after the integration id in its subject). */
export function sizeClass(bytes: number): number {
  return Math.max(0, Math.ceil(Math.log(Math.max(bytes, 1)) / Math.log(CLASS_RATIO)));
}

/** The most bytes a message of a class holds. */
export function classBytes(sizeClass: number): number {
  return CLASS_RATIO ** sizeClass;
}

/**
 * Whether a post of the integration is refused. At its share or past it: refused. Below
 * it, a post is taken whole even if it goes past (a post is at most MAX_BODY_BYTES), so
 * an integration with nothing waiting can always post once. A share of 1 is no share:
 * the stream's own limit is the only one.
 */
export function overShare(pending: number, streamMaxBytes: number, share: number): boolean {
  return share < 1 && streamMaxBytes > 0 && pending >= share * streamMaxBytes;
}

/** How stale the counts may be: an integration may overshoot by what it posts meanwhile. */
const REFRESH_MS = 250;

/**
 * One integration may hold at most INGEST_SHARE of INGEST (SPEC §7). The gateway publishes
 * each message on `ingest.records.<integration id>.<size class>`, so the stream itself
 * keeps the count of each integration's messages not loaded yet (a work queue keeps only
 * those) per size class: one stream-info request with a subject filter gives every
 * integration's bytes (within 25 %), the same for every gateway replica, with no state
 * of ours to share or lose. nats-server 2.9 counts messages per subject, not bytes: the
 * size class in the subject is what turns its counts into bytes. Between two requests
 * (REFRESH_MS) a replica adds what it published itself. The stream's own byte limit
 * (discard new) stays the hard bound.
 */
export class IngestShare {
  /** Bytes per integration id, as of the last request. */
  private held = new Map<number, number>();
  private streamMaxBytes = 0;
  /** Bytes this replica published that `held` does not include yet. */
  private readonly unseen = new Map<number, number>();
  private refreshedAt = 0;
  private refreshing?: Promise<void>;

  constructor(
    private readonly jsm: () => Promise<JetStreamManager>,
    private readonly naming: NatsNaming,
    private readonly share: number,
  ) {}

  /** The key after `ingest.records.` of a message of the integration, of `bytes`. */
  static key(integrationId: number, bytes: number): string {
    return `${integrationId}.${sizeClass(bytes)}`;
  }

  /** Throws OverShare if the integration holds its share already. */
  async check(integrationId: number): Promise<void> {
    if (Date.now() - this.refreshedAt >= REFRESH_MS) {
      this.refreshing ??= this.refresh().finally(() => (this.refreshing = undefined));
      // The first time, wait for counts; later, decide on the last ones.
      if (this.refreshedAt === 0) await this.refreshing.catch(() => undefined);
    }
    const pending = (this.held.get(integrationId) ?? 0) + (this.unseen.get(integrationId) ?? 0);
    if (overShare(pending, this.streamMaxBytes, this.share)) throw new OverShare();
  }

  /** A message of the integration, of `bytes`, was stored. */
  published(integrationId: number, bytes: number): void {
    this.unseen.set(integrationId, (this.unseen.get(integrationId) ?? 0) + bytes);
  }

  private async refresh(): Promise<void> {
    // What was acknowledged before this request is in its counts; what comes after is not.
    const included = new Map(this.unseen);
    const prefix = this.naming.subject(`${Subjects.IngestRecords}.`);
    const jsm = await this.jsm();
    const info = await jsm.streams.info(this.naming.stream(Streams.INGEST.name), { subjects_filter: `${prefix}>` });
    this.held = heldBytes(prefix, info.state.subjects ?? {});
    this.streamMaxBytes = info.config.max_bytes;
    this.refreshedAt = Date.now();
    for (const [id, bytes] of included) {
      const left = (this.unseen.get(id) ?? 0) - bytes;
      if (left > 0) this.unseen.set(id, left);
      else this.unseen.delete(id);
    }
  }
}

/** Bytes per integration from message counts per `<prefix><integration id>.<size class>`. */
export function heldBytes(prefix: string, counts: Record<string, number>): Map<number, number> {
  const held = new Map<number, number>();
  for (const [subject, count] of Object.entries(counts)) {
    const [id, size] = subject.slice(prefix.length).split('.').map(Number);
    if (!Number.isInteger(id) || !Number.isInteger(size)) continue;
    held.set(id, (held.get(id) ?? 0) + count * classBytes(size));
  }
  return held;
}
