import { Injectable } from '@nestjs/common';
import { EventOf, Subject } from '@posthooks/contracts';
import { EntityManager } from 'typeorm';

export interface Change<S extends Subject> {
  /** Label of the API key that made it, `admin`, or `system` (trial expiry). */
  actor: string;
  action: string;
  accountId: number;
  objectType: 'account' | 'api_key' | 'destination' | 'hook';
  objectId: number;
  subject: S;
  event: Omit<EventOf<S>, 'changed_by' | 'changed_at'>;
}

/**
 * Records a change inside the transaction that makes it: one audit row naming who, and
 * one outbox row with the event every other service learns it from. Both commit with
 * the change or not at all; the OutboxRelay publishes the event afterwards.
 */
@Injectable()
export class ChangeRecorder {
  async record<S extends Subject>(m: EntityManager, change: Change<S>): Promise<void> {
    await m.query('INSERT INTO audit_log (account_id, actor, action, object_type, object_id) VALUES ($1, $2, $3, $4, $5)', [
      change.accountId,
      change.actor,
      change.action,
      change.objectType,
      change.objectId,
    ]);
    const event = { ...change.event, changed_by: change.actor, changed_at: new Date().toISOString() };
    await m.query('INSERT INTO outbox (subject, payload) VALUES ($1, $2)', [change.subject, JSON.stringify(event)]);
  }
}
