import { Injectable } from '@nestjs/common';
import { escapeIdentifier } from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import { ColumnType, columnTypeOf, fits, inferType } from './column-types';

export interface IncomingRecord {
  record: Record<string, unknown>;
  /** `<request id>:<part>:<index>`: stable across redeliveries of the message. */
  sourceId: string;
  receivedAt: string;
}

export interface LoadResult {
  loaded: number;
  rejected: { record: Record<string, unknown>; reason: string }[];
}

const SDC_COLUMNS = `_sdc_received_at timestamptz, _sdc_batched_at timestamptz, _sdc_sequence bigint, _sdc_table_version bigint`;
const APPEND_KEY = '__sdc_primary_key';
let sequence = Date.now() * 1000;

/**
 * Loads a batch of records into `<schema>.data`, creating the schema, the table and new
 * columns as fields appear. With a primary key rows are upserted on it; without one each
 * record is appended under a key derived from where it came from, so a batch loaded
 * twice (a crash before the ack) is still loaded once. A record without its key, or with
 * a value its column cannot hold, goes to `<schema>._sdc_rejected` with the reason; the
 * rest of the batch loads.
 */
@Injectable()
export class TableLoader {
  constructor(private readonly db: DataSource) {}

  load(schema: string, primaryKey: string | undefined, batch: IncomingRecord[], batchedAt: Date): Promise<LoadResult> {
    return this.db.transaction((m) => this.loadIn(m, schema, primaryKey, batch, batchedAt));
  }

  private async loadIn(m: EntityManager, schema: string, primaryKey: string | undefined, batch: IncomingRecord[], batchedAt: Date): Promise<LoadResult> {
    const s = escapeIdentifier(schema);
    const key = primaryKey ?? APPEND_KEY;
    // One loader at a time per schema: the column changes below must not interleave.
    await m.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`posthooks:load:${schema}`]);
    await m.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await m.query(`CREATE TABLE IF NOT EXISTS ${s}._sdc_rejected (source text PRIMARY KEY, record jsonb NOT NULL, reason text NOT NULL, table_name text NOT NULL, rejected_at timestamptz NOT NULL DEFAULT now())`);
    const columns = await this.columns(m, schema);

    const rejected: (LoadResult['rejected'][number] & { sourceId: string })[] = [];
    const rows = new Map<string, Record<string, unknown>>();
    for (const item of batch) {
      const reason = this.problem(item.record, primaryKey, columns);
      if (reason) {
        rejected.push({ record: item.record, reason, sourceId: item.sourceId });
        continue;
      }
      for (const [field, value] of Object.entries(item.record)) {
        const type = inferType(value);
        if (!columns.has(field) && type) columns.set(field, type);
      }
      const row = { ...item.record, _sdc_received_at: item.receivedAt, _sdc_batched_at: batchedAt.toISOString(), _sdc_sequence: sequence++, _sdc_table_version: 0 };
      if (!primaryKey) (row as Record<string, unknown>)[APPEND_KEY] = item.sourceId;
      // The same key twice in one batch: the later record wins, as it would across batches.
      rows.set(JSON.stringify(row[key as keyof typeof row]), row);
    }

    if (rows.size > 0) {
      const keyType = primaryKey ? columns.get(primaryKey)! : 'text';
      await m.query(`CREATE TABLE IF NOT EXISTS ${s}.data (${escapeIdentifier(key)} ${keyType} PRIMARY KEY, ${SDC_COLUMNS})`);
      const existing = await this.columns(m, schema, 'data');
      for (const [name, type] of columns) if (!existing.has(name)) await m.query(`ALTER TABLE ${s}.data ADD COLUMN IF NOT EXISTS ${escapeIdentifier(name)} ${type}`);
      const all: [string, string][] = [
        ...[...columns].filter(([name]) => name !== key),
        ['_sdc_received_at', 'timestamptz'],
        ['_sdc_batched_at', 'timestamptz'],
        ['_sdc_sequence', 'bigint'],
        ['_sdc_table_version', 'bigint'],
        [key, primaryKey ? columns.get(primaryKey)! : 'text'],
      ];
      const names = all.map(([n]) => escapeIdentifier(n)).join(', ');
      const shape = all.map(([n, t]) => `${escapeIdentifier(n)} ${t}`).join(', ');
      const onConflict = primaryKey
        ? `DO UPDATE SET ${all.filter(([n]) => n !== key).map(([n]) => `${escapeIdentifier(n)} = EXCLUDED.${escapeIdentifier(n)}`).join(', ')}`
        : 'DO NOTHING';
      await m.query(`INSERT INTO ${s}.data (${names}) SELECT ${names} FROM jsonb_to_recordset($1::jsonb) AS x(${shape}) ON CONFLICT (${escapeIdentifier(key)}) ${onConflict}`, [JSON.stringify([...rows.values()])]);
    }
    if (rejected.length > 0) {
      await m.query(
        `INSERT INTO ${s}._sdc_rejected (source, record, reason, table_name) SELECT source, record, reason, 'data' FROM jsonb_to_recordset($1::jsonb) AS x(source text, record jsonb, reason text) ON CONFLICT (source) DO NOTHING`,
        [JSON.stringify(rejected.map((r) => ({ source: r.sourceId, record: r.record, reason: r.reason })))],
      );
    }
    return { loaded: rows.size, rejected: rejected.map(({ record, reason }) => ({ record, reason })) };
  }

  /** Why a record cannot be loaded, or undefined if it can. */
  private problem(record: Record<string, unknown>, primaryKey: string | undefined, columns: Map<string, ColumnType>): string | undefined {
    if (primaryKey && (record[primaryKey] === undefined || record[primaryKey] === null)) return `missing primary key "${primaryKey}"`;
    if (primaryKey && typeof record[primaryKey] === 'object') return `primary key "${primaryKey}" must be a string, a number or a boolean`;
    for (const [field, value] of Object.entries(record)) {
      if (Buffer.byteLength(field) > 63) return `field name "${field.slice(0, 20)}…" is longer than 63 bytes`;
      if (field.startsWith('_sdc') || field === APPEND_KEY) return `field name "${field}" is reserved`;
      const type = columns.get(field);
      if (type && !fits(value, type)) return `field "${field}" is ${JSON.stringify(value).slice(0, 50)}, which does not fit its column of type ${type}`;
    }
    return undefined;
  }

  private async columns(m: EntityManager, schema: string, table = 'data'): Promise<Map<string, ColumnType>> {
    const rows = await m.query<{ column_name: string; data_type: string }[]>(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND column_name NOT LIKE '\\_sdc%' AND column_name <> $3`,
      [schema, table, APPEND_KEY],
    );
    return new Map(rows.map((r) => [r.column_name, columnTypeOf(r.data_type)]));
  }
}
