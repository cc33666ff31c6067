import { Injectable } from '@nestjs/common';
import { EventPublisher } from '@posthooks/messaging';
import { LoadSpec, simulatedEvents } from './simulated-events';

/** Publishes one run of a simulation: a load event per table on LOADS. */
@Injectable()
export class Simulator {
  constructor(private readonly publisher: EventPublisher) {}

  /**
   * Returns the event ids once the stream has stored every event. Each id is also the
   * Nats-Msg-Id, so a run retried with the same ids is stored once. Published one after
   * another so the stream keeps the tables' order.
   */
  async run(spec: LoadSpec, eventId: (tableIndex: number) => string): Promise<string[]> {
    const ids = spec.tables.map((_, i) => eventId(i));
    const { subject, events } = simulatedEvents(spec, ids, new Date());
    for (const [i, event] of events.entries()) await this.publisher.publish(subject, event, { msgId: ids[i] });
    return ids;
  }
}
