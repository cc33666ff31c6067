import { HttpException, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { simpleError, Subjects } from '@posthooks/contracts';
import { maskDestinationUrl, parseDestinationUrl, SEALED_PREFIX, SecretBox } from '@posthooks/webhooks';
import { DataSource, EntityManager } from 'typeorm';
import { AccountsService } from '../accounts/accounts.service';
import { AccountCaller } from '../auth/guards';
import { notFound } from '@posthooks/runtime';
import { ChangeRecorder } from '../changes/change-recorder';
import { OutboxRelay } from '../changes/outbox-relay';
import { DestinationRow, HookRow } from '../database/rows';
import { HookChanges } from '../hooks/hook-changes';
import { DestinationCheck } from './destination-check';
import { DestinationDatabases } from './destination-databases';
import { CreateDestinationDto, UpdateDestinationDto } from './destinations.dto';

/** SPEC §10. */
export const MAX_DESTINATIONS = 10;

@Injectable()
export class DestinationsService implements OnModuleInit {
  private readonly log = new Logger('Destinations');

  constructor(
    private readonly db: DataSource,
    private readonly changes: ChangeRecorder,
    private readonly hookChanges: HookChanges,
    private readonly relay: OutboxRelay,
    private readonly accounts: AccountsService,
    private readonly secretBox: SecretBox,
    private readonly check: DestinationCheck,
    private readonly databases: DestinationDatabases,
  ) {}

  /** Before the API answers: connection URLs sealed under a previous SECRETS_KEY are sealed again and announced (as hook secrets are). */
  async onModuleInit(): Promise<void> {
    const stale = await this.db.query<{ id: number }[]>('SELECT id FROM destinations WHERE connection_url IS NOT NULL AND connection_url NOT LIKE $1 ORDER BY id', [`${SEALED_PREFIX}${this.secretBox.keyId}:%`]);
    for (const { id } of stale) {
      await this.db.transaction(async (m) => {
        const [d] = await m.query<DestinationRow[]>('SELECT * FROM destinations WHERE id = $1 FOR UPDATE', [id]);
        if (!d?.connection_url || !this.secretBox.needsReseal(d.connection_url)) return;
        const [[resealed]] = await m.query<[DestinationRow[], number]>('UPDATE destinations SET connection_url = $2 WHERE id = $1 RETURNING *', [id, this.secretBox.seal(this.secretBox.open(d.connection_url))]);
        await this.record(m, resealed, 'destination.connection_resealed', 'system', false);
      });
    }
    if (stale.length > 0) this.log.log(`sealed the connection URLs of ${stale.length} destinations under key ${this.secretBox.keyId}`);
  }

  async create(caller: AccountCaller, dto: CreateDestinationDto) {
    // The check talks to another server: before the account's lock, not under it.
    const sealed = dto.connection ? await this.checkAndSeal(dto.connection.url) : null;
    const result = await this.db.transaction(async (m) => {
      // The account's row lock makes count-then-insert safe under concurrent creates.
      await this.accounts.lockAccount(m, caller.accountId);
      const [{ n }] = await m.query<{ n: number }[]>('SELECT count(*)::int AS n FROM destinations WHERE account_id = $1', [caller.accountId]);
      if (n >= MAX_DESTINATIONS) throw new HttpException(simpleError(`an account has at most ${MAX_DESTINATIONS} destinations`), 400);
      // The id first, so that a built-in database exists before any event names the destination.
      const [{ id }] = await m.query<{ id: number }[]>(`SELECT nextval(pg_get_serial_sequence('destinations', 'id'))::int AS id`);
      if (!sealed) await this.ensureDatabase(id);
      const [d] = await m.query<DestinationRow[]>('INSERT INTO destinations (id, account_id, name, type, connection_url) VALUES ($1, $2, $3, $4, $5) RETURNING *', [
        id,
        caller.accountId,
        dto.name,
        dto.type,
        sealed,
      ]);
      await this.record(m, d, 'destination.created', caller.label, false);
      return this.view(d);
    });
    this.relay.kick();
    return result;
  }

  async list(caller: AccountCaller) {
    const rows = await this.db.query<DestinationRow[]>('SELECT * FROM destinations WHERE account_id = $1 ORDER BY id', [caller.accountId]);
    return rows.map((d) => this.view(d));
  }

  /** A new name and/or connection; a new connection is checked as at create. The loader switches to it with the event. */
  async update(caller: AccountCaller, id: number, dto: UpdateDestinationDto) {
    const [mine] = await this.db.query<DestinationRow[]>('SELECT * FROM destinations WHERE id = $1 AND account_id = $2', [id, caller.accountId]);
    if (!mine) throw notFound();
    const changesConnection = dto.connection !== undefined;
    const sealed = dto.connection ? await this.checkAndSeal(dto.connection.url) : null;
    if (changesConnection && !sealed) await this.ensureDatabase(id);
    const result = await this.db.transaction(async (m) => {
      await this.accounts.lockAccount(m, caller.accountId);
      const [d] = await m.query<DestinationRow[]>('SELECT * FROM destinations WHERE id = $1 AND account_id = $2 FOR UPDATE', [id, caller.accountId]);
      if (!d) throw notFound();
      // TypeORM answers an UPDATE ... RETURNING with [rows, affected].
      const [[changed]] = await m.query<[DestinationRow[], number]>('UPDATE destinations SET name = $2, connection_url = $3 WHERE id = $1 RETURNING *', [
        id,
        dto.name ?? d.name,
        changesConnection ? sealed : d.connection_url,
      ]);
      await this.record(m, changed, 'destination.updated', caller.label, false);
      return this.view(changed);
    });
    this.relay.kick();
    return result;
  }

  /** Deleting a destination deletes its hooks; every one of them is announced. Its database and data stay. */
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

  /** The event carries the connection URL sealed, as it rests: only the load-simulator's view keeps and opens it. */
  record(m: EntityManager, d: DestinationRow, action: string, actor: string, deleted: boolean) {
    return this.changes.record(m, {
      actor,
      action,
      accountId: d.account_id,
      objectType: 'destination',
      objectId: d.id,
      subject: Subjects.DestinationChanged,
      // `schema` only for views of a registry before issue 17, which require it.
      event: { destination_id: d.id, account_id: d.account_id, name: d.name, schema: d.schema, type: d.type, connection_url: d.connection_url, deleted },
    });
  }

  private async checkAndSeal(url: string): Promise<string> {
    await this.check.check(url);
    return this.secretBox.seal(url);
  }

  private async ensureDatabase(id: number): Promise<void> {
    try {
      await this.databases.ensure(id);
    } catch (err) {
      this.log.error(`could not create the built-in database of destination ${id}: ${(err as Error).message}`);
      throw new HttpException(simpleError("could not create the destination's database"), 503);
    }
  }

  /** `connection.url` with its password as `***`; `database`: where the rows are. */
  private view(d: DestinationRow) {
    const url = d.connection_url ? this.secretBox.open(d.connection_url) : null;
    const database = url ? (parseDestinationUrl(url)?.database ?? null) : this.databases.nameOf(d.id);
    return { id: d.id, name: d.name, type: d.type, connection: url ? { url: maskDestinationUrl(url) } : null, database, created_at: d.created_at.toISOString() };
  }
}
