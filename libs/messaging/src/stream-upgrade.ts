/**
 * Decisions of stream provisioning, without NATS: what to do next with a stream as found
 * on the server, what byte limit is safe to set, which messages an upgrade must carry
 * over. provisioning.ts carries them out.
 */

/** A stream as provisioning finds it on the server. */
export interface FoundStream {
  retention: string;
  sealed: boolean;
}

/**
 * One step towards the wanted config. Every step is idempotent and the state is read
 * again after each one, so two replicas provisioning at once, or a start after a crash
 * mid-upgrade, only ever repeat steps:
 * - `create`: the stream is missing.
 * - `update`: same retention: the rest changes in place.
 * - `seal`: the retention differs (nats-server 2.9 cannot change it in place). Sealing
 *   first makes the stream refuse publishes (publishers get an error and retry, or a 503),
 *   so nothing can arrive after the copy.
 * - `copy-out`: sealed with the old retention: copy the messages not yet consumed into
 *   the upgrade stream, then delete the old stream.
 * - `restore`: the new stream exists beside an upgrade stream: re-publish what it holds,
 *   then delete it.
 */
export type ProvisionStep = 'create' | 'update' | 'seal' | 'copy-out' | 'restore';

export function nextProvisionStep(wantedRetention: string, stream: FoundStream | undefined, upgradeStreamExists: boolean): ProvisionStep {
  if (!stream) return 'create';
  if (stream.retention === wantedRetention) return upgradeStreamExists ? 'restore' : 'update';
  return stream.sealed ? 'copy-out' : 'seal';
}

/**
 * The byte limit to set. nats-server 2.9 makes a stream fit a lowered `max_bytes` by
 * deleting its oldest messages, whatever its discard policy (measured): on a stream
 * that must drop nothing, the limit is never set below what it stores. Publishes are
 * refused until consumers bring it under the wanted limit, which the next start sets.
 */
export function safeMaxBytes(wanted: number, storedBytes: number, dropsOld: boolean): number {
  return dropsOld ? wanted : Math.max(wanted, storedBytes);
}

/** Whether a NATS subject filter (with `*` and `>`) matches a subject. */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length || (f[i] !== '*' && f[i] !== s[i])) return false;
  }
  return f.length === s.length;
}

/** A durable consumer of the old stream: what it reads and how far it has acknowledged. */
export interface ConsumerProgress {
  /** Empty: every subject of the stream. */
  filter: string;
  ackFloor: number;
}

/**
 * Whether an upgrade must carry a message over: unless every consumer that reads its
 * subject has acknowledged it (and at least one does), it has not been handled yet.
 * A message acknowledged out of order above a consumer's ack floor is carried over too
 * and delivered again: at least once, as everywhere else.
 */
export function mustCarryOver(seq: number, subject: string, consumers: ConsumerProgress[]): boolean {
  const readers = consumers.filter((c) => c.filter === '' || subjectMatches(c.filter, subject));
  return readers.length === 0 || readers.some((c) => seq > c.ackFloor);
}

/** Where the copy may start: before it, every subject's readers have acknowledged all. */
export function firstSeqToCopy(firstSeq: number, subjects: string[], consumers: ConsumerProgress[]): number {
  let from = Number.POSITIVE_INFINITY;
  for (const subject of subjects) {
    const readers = consumers.filter((c) => c.filter === '' || subjectMatches(c.filter, subject) || subjectMatches(subject, c.filter));
    if (readers.length === 0) return firstSeq;
    from = Math.min(from, ...readers.map((c) => c.ackFloor + 1));
  }
  return Math.max(firstSeq, from === Number.POSITIVE_INFINITY ? firstSeq : from);
}
