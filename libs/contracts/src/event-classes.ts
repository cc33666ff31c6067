import { HookGoneEvent, HookTestEvent, HookUndeliverableEvent } from './events/hook-undeliverable.event';
import { IngestRecordsEvent } from './events/ingest-records.event';
import { LoadEvent, LoadStartedEvent } from './events/load.event';
import { AccountChangedEvent, ApiKeyChangedEvent, DestinationChangedEvent, HookChangedEvent, HookVerifyRequest } from './events/registry.events';
import { Subject, Subjects } from './subjects';

/** The payload class of every subject: what a consumer validates before acting. */
export const EventClasses = {
  [Subjects.TableLoaded]: LoadEvent,
  [Subjects.TableRejected]: LoadEvent,
  [Subjects.LoadStarted]: LoadStartedEvent,
  [Subjects.IngestRecords]: IngestRecordsEvent,
  [Subjects.HookUndeliverable]: HookUndeliverableEvent,
  [Subjects.HookGone]: HookGoneEvent,
  [Subjects.HookTest]: HookTestEvent,
  [Subjects.HookVerify]: HookVerifyRequest,
  [Subjects.AccountChanged]: AccountChangedEvent,
  [Subjects.ApiKeyChanged]: ApiKeyChangedEvent,
  [Subjects.DestinationChanged]: DestinationChangedEvent,
  [Subjects.HookChanged]: HookChangedEvent,
} satisfies Record<Subject, new () => object>;

export type EventOf<S extends Subject> = InstanceType<(typeof EventClasses)[S]>;
