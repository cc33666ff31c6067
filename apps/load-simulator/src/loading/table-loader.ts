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

/** A batch checked and turned into rows against the columns it expects the table to have. */
export interface PreparedLoad {
  schema: string;
  primaryKey: string | undefined;
  batch: IncomingRecord[];
  batchedAt: Date;
  /** The columns the batch was checked against: if the table turns out to have others, it is prepared again. */
  expected: Map<string, ColumnType>;
  /** `expected` plus the columns the batch adds. */
  columns: Map<string, ColumnType>;
  /** By key: the same key twice in one batch, the later record wins, as it would across batches. */
  rows: Map<string, Record<string, unknown>>;
  rejected: (LoadResult['rejected'][number] & { sourceId: string })[];
}

/**
 * Loads a batch of records into `<schema>.data`, creating the schema, the table and new
 * columns as fields appear. With a primary key rows are upserted on it; without one each
 * record is appended under a key derived from where it came from, so a batch loaded
 * twice (a crash before the ack) is still loaded once. A record without its key, or with
 * a value its column cannot hold, goes to `<schema>._sdc_rejected` with the reason; the
 * rest of the batch loads.
 *
 * In two steps, so that checking a batch (CPU here) overlaps the previous batch's write
 * (Postgres): `prepare` checks it against the columns this process expects the table to
 * have once the batches before it are written; `write` does it in one transaction,
 * where the table's real columns are read under a lock, and prepares the batch again if
 * they differ (another replica added columns, or an earlier write failed).
 */
@Injectable()
export class TableLoader {
  /** Per schema, the columns of `data` once every batch prepared so far is written. */
  private readonly expectedColumns = new Map<string, Map<string, ColumnType>>();

  constructor(private readonly db: DataSource) {}

  prepare(schema: string, primaryKey: string | undefined, batch: IncomingRecord[], batchedAt: Date): PreparedLoad {
    const prepared = this.check(schema, primaryKey, batch, batchedAt, this.expectedColumns.get(schema) ?? new Map());
    this.expectedColumns.set(schema, prepared.columns);
    return prepared;
  }

  write(prepared: PreparedLoad): Promise<LoadResult> {
    return this.db.transaction((m) => this.writeIn(m, prepared));
  }

  private async writeIn(m: EntityManager, prepared: PreparedLoad): Promise<LoadResult> {
    const { schema, primaryKey } = prepared;
    const s = escapeIdentifier(schema);
    const key = primaryKey ?? APPEND_KEY;
    // One loader at a time per schema: the column changes below must not interleave.
    await m.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`posthooks:load:${schema}`]);
    await m.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await m.query(`CREATE TABLE IF NOT EXISTS ${s}._sdc_rejected (source text PRIMARY KEY, record jsonb NOT NULL, reason text NOT NULL, table_name text NOT NULL, rejected_at timestamptz NOT NULL DEFAULT now())`);
    const existing = await this.columns(m, schema);
    const p = sameColumns(existing, prepared.expected) ? prepared : this.check(schema, primaryKey, prepared.batch, prepared.batchedAt, existing);
    if (p !== prepared) this.expectedColumns.set(schema, new Map([...(this.expectedColumns.get(schema) ?? []), ...p.columns]));

    if (p.rows.size > 0) {
      const keyType = primaryKey ? p.columns.get(primaryKey)! : 'text';
      await m.query(`CREATE TABLE IF NOT EXISTS ${s}.data (${escapeIdentifier(key)} ${keyType} PRIMARY KEY, ${SDC_COLUMNS})`);
      for (const [name, type] of p.columns) if (!existing.has(name)) await m.query(`ALTER TABLE ${s}.data ADD COLUMN IF NOT EXISTS ${escapeIdentifier(name)} ${type}`);
      const all: [string, string][] = [
        ...[...p.columns].filter(([name]) => name !== key),
        ['_sdc_received_at', 'timestamptz'],
        ['_sdc_batched_at', 'timestamptz'],
        ['_sdc_sequence', 'bigint'],
        ['_sdc_table_version', 'bigint'],
        [key, keyType],
      ];
      const names = all.map(([n]) => escapeIdentifier(n)).join(', ');
      const shape = all.map(([n, t]) => `${escapeIdentifier(n)} ${t}`).join(', ');
      const onConflict = primaryKey
        ? `DO UPDATE SET ${all.filter(([n]) => n !== key).map(([n]) => `${escapeIdentifier(n)} = EXCLUDED.${escapeIdentifier(n)}`).join(', ')}`
        : 'DO NOTHING';
      await m.query(`INSERT INTO ${s}.data (${names}) SELECT ${names} FROM json_to_recordset($1::json) AS x(${shape}) ON CONFLICT (${escapeIdentifier(key)}) ${onConflict}`, [JSON.stringify([...p.rows.values()])]);
    }
    if (p.rejected.length > 0) {
      await m.query(
        `INSERT INTO ${s}._sdc_rejected (source, record, reason, table_name) SELECT source, record, reason, 'data' FROM jsonb_to_recordset($1::jsonb) AS x(source text, record jsonb, reason text) ON CONFLICT (source) DO NOTHING`,
        [JSON.stringify(p.rejected.map((r) => ({ source: r.sourceId, record: r.record, reason: r.reason })))],
      );
    }
    return { loaded: p.rows.size, rejected: p.rejected.map(({ record, reason }) => ({ record, reason })) };
  }

  /** Checks each record against `expected` (and the columns earlier records of the batch add) and makes its row. */
  private check(schema: string, primaryKey: string | undefined, batch: IncomingRecord[], batchedAt: Date, expected: Map<string, ColumnType>): PreparedLoad {
    const columns = new Map(expected);
    const rejected: PreparedLoad['rejected'] = [];
    const rows = new Map<string, Record<string, unknown>>();
    const key = primaryKey ?? APPEND_KEY;
    const batchedAtIso = batchedAt.toISOString();
    for (const item of batch) {
      const reason = this.problem(item.record, primaryKey, columns);
      if (reason) {
        rejected.push({ record: item.record, reason, sourceId: item.sourceId });
        continue;
      }
      const row: Record<string, unknown> = { ...item.record };
      for (const field in row) {
        if (columns.has(field)) continue;
        const type = inferType(row[field]);
        if (type) columns.set(field, type);
      }
      row._sdc_received_at = item.receivedAt;
      row._sdc_batched_at = batchedAtIso;
      row._sdc_sequence = sequence++;
      row._sdc_table_version = 0;
      if (!primaryKey) row[APPEND_KEY] = item.sourceId;
      rows.set(JSON.stringify(row[key]), row);
    }
    return { schema, primaryKey, batch, batchedAt, expected, columns, rows, rejected };
  }

  /** Why a record cannot be loaded, or undefined if it can. */
  private problem(record: Record<string, unknown>, primaryKey: string | undefined, columns: Map<string, ColumnType>): string | undefined {
    if (primaryKey && (record[primaryKey] === undefined || record[primaryKey] === null)) return `missing primary key "${primaryKey}"`;
    if (primaryKey && typeof record[primaryKey] === 'object') return `primary key "${primaryKey}" must be a string, a number or a boolean`;
    for (const field in record) {
      // A name of at most 21 UTF-16 units is at most 63 bytes: only longer ones are measured.
      if (field.length > 21 && Buffer.byteLength(field) > 63) return `field name "${field.slice(0, 20)}…" is longer than 63 bytes`;
      if (field.startsWith('_sdc') || field === APPEND_KEY) return `field name "${field}" is reserved`;
      const type = columns.get(field);
      const value = record[field];
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

function sameColumns(a: Map<string, ColumnType>, b: Map<string, ColumnType>): boolean {
  return a.size === b.size && [...a].every(([name, type]) => b.get(name) === type);
}
