/**
 * NATS subjects and JetStream streams of SPEC §4. These are the logical names; the
 * messaging lib prefixes them with NATS_NAMESPACE when one is set (tests do, so that
 * a test run never touches the streams `npm start` uses).
 */
export const Subjects = {
  TableLoaded: 'table.loaded',
  TableRejected: 'table.rejected',
  IngestRecords: 'ingest.records',
  HookUndeliverable: 'hook.undeliverable',
  /** dispatcher → registry: a receiver answered 410 Gone, disable the hook. */
  HookGone: 'hook.gone',
  /** registry → dispatcher: send a `ping` to one hook through the normal delivery path. */
  HookTest: 'hook.test',
  AccountChanged: 'registry.account.changed',
  ApiKeyChanged: 'registry.api_key.changed',
  DestinationChanged: 'registry.destination.changed',
  HookChanged: 'registry.hook.changed',
} as const;

export type Subject = (typeof Subjects)[keyof typeof Subjects];

/**
 * What the ingest-gateway (the internet-facing service) reads of REGISTRY: API keys and
 * destinations, never a hook or its secrets. Its NATS user may only create REGISTRY
 * consumers filtered on these (k8s/base/nats-permissions.conf).
 */
export const GATEWAY_REGISTRY_SUBJECTS: readonly Subject[] = [Subjects.ApiKeyChanged, Subjects.DestinationChanged];

/** A dead-lettered message keeps its original subject after this prefix. */
export const DEADLETTER_SUBJECT_PREFIX = 'deadletter.';

export const Streams = {
  LOADS: { name: 'LOADS', subjects: [Subjects.TableLoaded, Subjects.TableRejected] },
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
export const KEYED_SUBJECTS: readonly Subject[] = [Subjects.IngestRecords];

/** Headers the dead-letter publish adds, so an operator can see why and from where. */
export const DeadLetterHeaders = {
  Reason: 'Posthooks-Deadletter-Reason',
  OriginalSubject: 'Posthooks-Original-Subject',
  OriginalStream: 'Posthooks-Original-Stream',
  OriginalSequence: 'Posthooks-Original-Sequence',
  /** The original's Nats-Msg-Id, if it had one: `npm run deadletter -- replay` publishes under it again. */
  OriginalMsgId: 'Posthooks-Original-Msg-Id',
} as const;
