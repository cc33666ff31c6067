import { HttpException, Injectable } from '@nestjs/common';
import { simpleError, Subjects } from '@posthooks/contracts';
import { DataSource, EntityManager } from 'typeorm';
import { AccountsService } from '../accounts/accounts.service';
import { AccountCaller } from '../auth/guards';
import { notFound } from '@posthooks/runtime';
import { ChangeRecorder } from '../changes/change-recorder';
import { OutboxRelay } from '../changes/outbox-relay';
import { DestinationRow, HookRow } from '../database/rows';
import { HookChanges } from '../hooks/hook-changes';
import { CreateDestinationDto } from './destinations.dto';

/** SPEC §10. */
export const MAX_DESTINATIONS = 10;

const view = (d: DestinationRow) => ({ id: d.id, name: d.name, type: d.type, schema: d.schema, created_at: d.created_at.toISOString() });

@Injectable()
export class DestinationsService {
  constructor(
    private readonly db: DataSource,
    private readonly changes: ChangeRecorder,
    private readonly hookChanges: HookChanges,
    private readonly relay: OutboxRelay,
    private readonly accounts: AccountsService,
  ) {}

  async create(caller: AccountCaller, dto: CreateDestinationDto) {
    const result = await this.db.transaction(async (m) => {
      // The account's row lock makes count-then-insert safe under concurrent creates.
      await this.accounts.lockAccount(m, caller.accountId);
      const [{ n }] = await m.query<{ n: number }[]>('SELECT count(*)::int AS n FROM destinations WHERE account_id = $1', [caller.accountId]);
      if (n >= MAX_DESTINATIONS) throw new HttpException(simpleError(`an account has at most ${MAX_DESTINATIONS} destinations`), 400);
      const [d] = await m.query<DestinationRow[]>('INSERT INTO destinations (account_id, name, type, schema) VALUES ($1, $2, $3, $4) RETURNING *', [
        caller.accountId,
        dto.name,
        dto.type,
        dto.schema ?? 'public',
      ]);
      await this.record(m, d, 'destination.created', caller.label, false);
      return view(d);
    });
    this.relay.kick();
    return result;
  }

  async list(caller: AccountCaller) {
    const rows = await this.db.query<DestinationRow[]>('SELECT * FROM destinations WHERE account_id = $1 ORDER BY id', [caller.accountId]);
    return rows.map(view);
  }

  /** Deleting a destination deletes its hooks; every one of them is announced. */
  async delete(caller: AccountCaller, id: number): Promise<null> {
    await this.db.transaction(async (m) => {
      await this.accounts.lockAccount(m, caller.accountId);
      // Row locks on the destination and its hooks before any event is recorded: a change
      // of one of them in flight (a rotation) commits first, so its event precedes the delete's.
      const [d] = await m.query<DestinationRow[]>('SELECT * FROM destinations WHERE id = $1 AND account_id = $2 FOR UPDATE', [id, caller.accountId]);
      if (!d) throw notFound();
      const hooks = await m.query<HookRow[]>('SELECT * FROM hooks WHERE destination_id = $1 ORDER BY id FOR UPDATE', [id]);
      for (const hook of hooks) await this.hookChanges.record(m, hook, 'hook.deleted', caller.label, true);
      await m.query('DELETE FROM destinations WHERE id = $1', [id]);
      await this.record(m, d, 'destination.deleted', caller.label, true);
    });
    this.relay.kick();
    return null;
  }

  record(m: EntityManager, d: DestinationRow, action: string, actor: string, deleted: boolean) {
    return this.changes.record(m, {
      actor,
      action,
      accountId: d.account_id,
      objectType: 'destination',
      objectId: d.id,
      subject: Subjects.DestinationChanged,
      event: { destination_id: d.id, account_id: d.account_id, name: d.name, schema: d.schema, type: d.type, deleted },
    });
  }
}
