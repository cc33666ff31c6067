import { Injectable } from '@nestjs/common';
import { LosslessNumber, stringifyJson } from '@posthooks/contracts';
import { escapeIdentifier } from 'pg';
import { DestinationPools, Queryable } from '../destination-pools/destination-pools';
import { ColumnType, columnTypeOf, fits, inferType } from './column-types';
import { isRecordError } from './record-errors';

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
/** Postgres's limit on a table's columns (dropped ones count too: Postgres has the last word). */
const MAX_COLUMNS = 1600;
/** The `_sdc_` columns every data table has besides the records' own. */
const SDC_COLUMN_COUNT = 4;
let sequence = Date.now() * 1000;

/** A batch checked and turned into rows against the columns it expects the table to have. */
export interface PreparedLoad {
  /** The destination whose database holds the schema. */
  destinationId: number;
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
 * Loads a batch of records into `<schema>.data` of the destination's own database (each
 * destination its pool, DestinationPools), creating the schema, the table and new
 * columns as fields appear. With a primary key rows are upserted on it; without one each
 * record is appended under a key derived from where it came from, so a batch loaded
 * twice (a crash before the ack) is still loaded once. A record the table cannot hold
 * goes to `<schema>._sdc_rejected` with the reason, and the rest of the batch loads:
 * what can be seen in the record (no key, an empty or reserved field name, a value its
 * column's type cannot hold, a field past the 1,600 columns) is rejected before the
 * write; what only Postgres finds (a row wider than a page, a number numeric cannot hold,
 * a NUL) fails the write, which is then retried in halves until the record that fails
 * alone is rejected with Postgres's message (`write`). Failures not about the data
 * (record-errors) fail the flush, to be retried: an outage never rejects a record.
 *
 * In two steps, so that checking a batch (CPU here) overlaps the previous batch's write
 * (Postgres): `prepare` checks it against the columns this process expects the table to
 * have once the batches before it are written; `write` does it in one transaction,
 * where the table's real columns are read under a lock, and prepares the batch again if
 * they differ (another replica added columns, or an earlier write failed).
 */
@Injectable()
export class TableLoader {
  /** Per destination and schema, the columns of `data` once every batch prepared so far is written. */
  private readonly expectedColumns = new Map<string, Map<string, ColumnType>>();

  constructor(private readonly pools: DestinationPools) {}

  prepare(destinationId: number, schema: string, primaryKey: string | undefined, batch: IncomingRecord[], batchedAt: Date): PreparedLoad {
    const prepared = this.check(destinationId, schema, primaryKey, batch, batchedAt, this.expectedColumns.get(tableKey(destinationId, schema)) ?? new Map());
    this.expectedColumns.set(tableKey(destinationId, schema), prepared.columns);
    return prepared;
  }

  /**
   * Writes a prepared batch in one transaction. If Postgres refuses it because of what it
   * holds (record-errors), the batch is written again in two halves, and so on down to
   * the record that fails alone, which is rejected with Postgres's message: k bad records
   * in n cost about 2k·log2(n) extra transactions, and every good record loads. Halves
   * are written in order, so a key's later record still wins.
   */
  async write(prepared: PreparedLoad): Promise<LoadResult> {
    try {
      return await this.pools.transaction(prepared.destinationId, (m) => this.writeIn(m, prepared));
    } catch (err) {
      if (!isRecordError(err)) throw err;
      const { destinationId, schema, primaryKey, batch, batchedAt, expected } = prepared;
      if (batch.length === 1) {
        const [item] = batch;
        // A record rejected before the write keeps its reason (storing it in _sdc_rejected is what failed).
        const reason = prepared.rejected[0]?.reason ?? (err as Error).message;
        await this.rejectAlone(destinationId, schema, item, reason);
        return { loaded: 0, rejected: [{ record: item.record, reason }] };
      }
      const half = Math.ceil(batch.length / 2);
      const first = await this.write(this.check(destinationId, schema, primaryKey, batch.slice(0, half), batchedAt, expected));
      const second = await this.write(this.check(destinationId, schema, primaryKey, batch.slice(half), batchedAt, expected));
      return { loaded: first.loaded + second.loaded, rejected: [...first.rejected, ...second.rejected] };
    }
  }

  /**
   * `<schema>._sdc_rejected` gets one record that Postgres refused. If the record cannot
   * even be stored as jsonb (a NUL in a string, a number past numeric's range), its JSON
   * text is stored instead, as a jsonb string: nothing refused is lost.
   */
  private async rejectAlone(destinationId: number, schema: string, item: IncomingRecord, reason: string): Promise<void> {
    const insert = (record: string) =>
      this.pools.transaction(destinationId, async (m) => {
        await this.ensureSchema(m, schema);
        await m.query(`INSERT INTO ${escapeIdentifier(schema)}._sdc_rejected (source, record, reason, table_name) VALUES ($1, ${record}, $3, 'data') ON CONFLICT (source) DO NOTHING`, [item.sourceId, stringifyJson(item.record), reason]);
      });
    try {
      await insert('$2::jsonb');
    } catch (err) {
      if (!isRecordError(err)) throw err;
      await insert('to_jsonb($2::text)');
    }
  }

  /** Takes the schema's lock (one loader at a time: column changes must not interleave), creates the schema and `_sdc_rejected`. */
  private async ensureSchema(m: Queryable, schema: string): Promise<void> {
    const s = escapeIdentifier(schema);
    await m.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`posthooks:load:${schema}`]);
    await m.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await m.query(`CREATE TABLE IF NOT EXISTS ${s}._sdc_rejected (source text PRIMARY KEY, record jsonb NOT NULL, reason text NOT NULL, table_name text NOT NULL, rejected_at timestamptz NOT NULL DEFAULT now())`);
  }

  private async writeIn(m: Queryable, prepared: PreparedLoad): Promise<LoadResult> {
    const { destinationId, schema, primaryKey } = prepared;
    const s = escapeIdentifier(schema);
    const key = primaryKey ?? APPEND_KEY;
    await this.ensureSchema(m, schema);
    const existing = await this.columns(m, schema);
    const p = sameColumns(existing, prepared.expected) ? prepared : this.check(destinationId, schema, primaryKey, prepared.batch, prepared.batchedAt, existing);
    const known = tableKey(destinationId, schema);
    if (p !== prepared) this.expectedColumns.set(known, new Map([...(this.expectedColumns.get(known) ?? []), ...p.columns]));

    if (p.rows.size > 0) {
      const keyType = primaryKey ? p.columns.get(primaryKey)! : 'text';
      await m.query(`CREATE TABLE IF NOT EXISTS ${s}.data (${escapeIdentifier(key)} ${keyType} PRIMARY KEY, ${SDC_COLUMNS})`);
      const added = [...p.columns].filter(([name]) => !existing.has(name));
      if (added.length > 0) await m.query(`ALTER TABLE ${s}.data ${added.map(([name, type]) => `ADD COLUMN IF NOT EXISTS ${escapeIdentifier(name)} ${type}`).join(', ')}`);
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
      await m.query(`INSERT INTO ${s}.data (${names}) SELECT ${names} FROM json_to_recordset($1::json) AS x(${shape}) ON CONFLICT (${escapeIdentifier(key)}) ${onConflict}`, [stringifyJson([...p.rows.values()])]);
    }
    if (p.rejected.length > 0) {
      await m.query(
        `INSERT INTO ${s}._sdc_rejected (source, record, reason, table_name) SELECT source, record, reason, 'data' FROM jsonb_to_recordset($1::jsonb) AS x(source text, record jsonb, reason text) ON CONFLICT (source) DO NOTHING`,
        [stringifyJson(p.rejected.map((r) => ({ source: r.sourceId, record: r.record, reason: r.reason })))],
      );
    }
    return { loaded: p.rows.size, rejected: p.rejected.map(({ record, reason }) => ({ record, reason })) };
  }

  /** Checks each record against `expected` (and the columns earlier records of the batch add) and makes its row. */
  private check(destinationId: number, schema: string, primaryKey: string | undefined, batch: IncomingRecord[], batchedAt: Date, expected: Map<string, ColumnType>): PreparedLoad {
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
      rows.set(stringifyJson(row[key]), row);
    }
    return { destinationId, schema, primaryKey, batch, batchedAt, expected, columns, rows, rejected };
  }

  /** Why a record cannot be loaded, or undefined if it can. */
  private problem(record: Record<string, unknown>, primaryKey: string | undefined, columns: Map<string, ColumnType>): string | undefined {
    if (primaryKey && (record[primaryKey] === undefined || record[primaryKey] === null)) return `missing primary key "${primaryKey}"`;
    if (primaryKey && typeof record[primaryKey] === 'object' && !(record[primaryKey] instanceof LosslessNumber)) return `primary key "${primaryKey}" must be a string, a number or a boolean`;
    let newColumns = 0;
    for (const field in record) {
      if (field === '') return 'field name is empty (Postgres has no column without a name)';
      // A name of at most 21 UTF-16 units is at most 63 bytes: only longer ones are measured.
      if (field.length > 21 && Buffer.byteLength(field) > 63) return `field name "${field.slice(0, 20)}…" is longer than 63 bytes`;
      if (field.startsWith('_sdc') || field === APPEND_KEY) return `field name "${field}" is reserved`;
      const value = record[field];
      const column = columns.get(field);
      // A new column is checked too: JSON.parse reads 1e400 as Infinity, which numeric would get as null.
      const type = column ?? inferType(value);
      if (type && !fits(value, type)) return `field "${field}" is ${(typeof value === 'number' ? String(value) : stringifyJson(value)).slice(0, 50)}, which does not fit its column of type ${type}`;
      if (!column && type) newColumns++;
    }
    const total = columns.size + newColumns + SDC_COLUMN_COUNT + (primaryKey ? 0 : 1);
    if (newColumns > 0 && total > MAX_COLUMNS) return `the record's ${newColumns} new fields would make the table ${total} columns wide, past Postgres's limit of ${MAX_COLUMNS}`;
    return undefined;
  }

  private async columns(m: Queryable, schema: string, table = 'data'): Promise<Map<string, ColumnType>> {
    const rows = await m.query<{ column_name: string; data_type: string }[]>(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND column_name NOT LIKE '\\_sdc%' AND column_name <> $3`,
      [schema, table, APPEND_KEY],
    );
    return new Map(rows.map((r) => [r.column_name, columnTypeOf(r.data_type)]));
  }
}

function tableKey(destinationId: number, schema: string): string {
  return `${destinationId}/${schema}`;
}

function sameColumns(a: Map<string, ColumnType>, b: Map<string, ColumnType>): boolean {
  return a.size === b.size && [...a].every(([name, type]) => b.get(name) === type);
}
