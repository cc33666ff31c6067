/**
 * NATS subjects and JetStream streams of SPEC §4. These are the logical names; the
 * messaging lib prefixes them with NATS_NAMESPACE when one is set (tests do, so that
 * a test run never touches the streams `npm start` uses).
 */
export const Subjects = {
  TableLoaded: 'table.loaded',
  TableRejected: 'table.rejected',
  /** A load of a table has begun (Precog's `run.started`); hooks get it only if they subscribe. */
  LoadStarted: 'load.started',
  IngestRecords: 'ingest.records',
  HookUndeliverable: 'hook.undeliverable',
  /** dispatcher → registry: a receiver answered 410 Gone, disable the hook. */
  HookGone: 'hook.gone',
  /** registry → dispatcher: send a `ping` to one hook through the normal delivery path. */
  HookTest: 'hook.test',
  /**
   * registry → dispatcher, a core NATS request (no stream): send one ping to a hook now and
   * answer with the receiver's answer (`PUT /v1/hooks/{id}/settings` with `"verify": true`).
   */
  HookVerify: 'hook.verify',
  AccountChanged: 'registry.account.changed',
  ApiKeyChanged: 'registry.api_key.changed',
  DestinationChanged: 'registry.destination.changed',
  HookChanged: 'registry.hook.changed',
} as const;

export type Subject = (typeof Subjects)[keyof typeof Subjects];

/**
 * What the ingest-gateway (the internet-facing service) reads of REGISTRY: API keys and
 * destinations, never a hook or its secrets. Its NATS user may only create REGISTRY
 * consumers filtered on these, with the object id after them (`registry.api_key.changed.*`,
 * k8s/base/nats/permissions.conf).
 */
export const GATEWAY_REGISTRY_SUBJECTS: readonly Subject[] = [Subjects.ApiKeyChanged, Subjects.DestinationChanged];

/** A dead-lettered message keeps its original subject after this prefix. */
export const DEADLETTER_SUBJECT_PREFIX = 'deadletter.';

export const Streams = {
  LOADS: { name: 'LOADS', subjects: [Subjects.TableLoaded, Subjects.TableRejected, Subjects.LoadStarted] },
  // `ingest.records.<integration id>.<size class>` (the gateway's, so the stream counts each
  // integration's share) and plain `ingest.records` (what an older gateway published).
  INGEST: { name: 'INGEST', subjects: [Subjects.IngestRecords, `${Subjects.IngestRecords}.>`] },
  NOTIFY: { name: 'NOTIFY', subjects: [Subjects.HookUndeliverable, Subjects.HookGone] },
  // Test pings. `delivery.requested` is retired (deliveries wait in Postgres now) but stays
  // a subject of the stream, so that what an older dispatcher left in it upgrades with the
  // stream and is consumed: acked unhandled (the delivery it named is a due row).
  DELIVERIES: { name: 'DELIVERIES', subjects: [Subjects.HookTest, 'delivery.requested'] },
  REGISTRY: { name: 'REGISTRY', subjects: ['registry.>'] },
  DEADLETTER: { name: 'DEADLETTER', subjects: [`${DEADLETTER_SUBJECT_PREFIX}>`] },
} as const;

export type StreamName = keyof typeof Streams;

/**
 * Subjects that may be published with a key after them (`ingest.records.42`): the same
 * event, handled as the subject itself.
 */
export const KEYED_SUBJECTS: readonly Subject[] = [Subjects.IngestRecords, Subjects.AccountChanged, Subjects.ApiKeyChanged, Subjects.DestinationChanged, Subjects.HookChanged];

/**
 * REGISTRY is compacted (SPEC §12): each object's events go on a subject of its own,
 * `<subject>.<object id>` (`registry.hook.changed.42`), and the stream keeps the last
 * message of each subject only, so a view's start replays current state, not history.
 * The id field of each registry event, which is the key after its subject.
 */
export const REGISTRY_OBJECT_ID = {
  [Subjects.AccountChanged]: 'account_id',
  [Subjects.ApiKeyChanged]: 'key_id',
  [Subjects.DestinationChanged]: 'destination_id',
  [Subjects.HookChanged]: 'hook_id',
} as const;

export type RegistrySubject = keyof typeof REGISTRY_OBJECT_ID;

export function isRegistrySubject(subject: string): subject is RegistrySubject {
  return subject in REGISTRY_OBJECT_ID;
}

/** The object id a registry event is keyed by on REGISTRY. */
export function registryObjectId(subject: RegistrySubject, event: object): number {
  const id = (event as Record<string, unknown>)[REGISTRY_OBJECT_ID[subject]];
  if (typeof id !== 'number') throw new Error(`${subject} event without ${REGISTRY_OBJECT_ID[subject]}`);
  return id;
}

/** Headers the dead-letter publish adds, so an operator can see why and from where. */
export const DeadLetterHeaders = {
  Reason: 'Posthooks-Deadletter-Reason',
  OriginalSubject: 'Posthooks-Original-Subject',
  OriginalStream: 'Posthooks-Original-Stream',
  OriginalSequence: 'Posthooks-Original-Sequence',
  /** The original's Nats-Msg-Id, if it had one: `npm run deadletter -- replay` publishes under it again. */
  OriginalMsgId: 'Posthooks-Original-Msg-Id',
} as const;
