import { HttpException, Inject, Injectable } from '@nestjs/common';
import { LoadSimulatorEnv } from '@posthooks/config';
import { simpleError } from '@posthooks/contracts';
import { notFound } from '@posthooks/runtime';
import { DataSource } from 'typeorm';
import { assertMayActFor, Caller } from './caller.guard';
import { DEFAULT_NUM_ROWS, LoadSpec } from './simulated-events';
import { everyMs, Outcome, ScheduleDto, SimulationDto } from './simulation.dto';
import { Simulator } from './simulator';

interface ScheduleRow {
  id: number;
  client_id: number;
  destination_id: number | null;
  integration_name: string;
  tables: string[];
  outcome: Outcome;
  num_rows: number;
  every: string;
  next_run_at: Date;
  last_run_at: Date | null;
  created_at: Date;
}

export function specOf(s: SimulationDto | ScheduleRow): LoadSpec {
  return {
    client_id: s.client_id,
    destination_id: s.destination_id ?? null,
    integration_name: s.integration_name,
    tables: s.tables,
    outcome: s.outcome,
    num_rows: s.num_rows ?? DEFAULT_NUM_ROWS,
  };
}

export function scheduleView(r: ScheduleRow) {
  return {
    id: r.id,
    ...specOf(r),
    every: r.every,
    next_run_at: r.next_run_at.toISOString(),
    last_run_at: r.last_run_at?.toISOString() ?? null,
    created_at: r.created_at.toISOString(),
  };
}

// The next run, computed by Postgres so that replicas with skewed clocks agree. Normally
// one interval after the run that was due (no drift); if that is already past (the
// service was down), one interval from now: one catch-up run, never a burst.
const EVERY = `every_ms * interval '1 millisecond'`;
const ADVANCE = `CASE WHEN next_run_at + ${EVERY} > now() THEN next_run_at + ${EVERY} ELSE now() + ${EVERY} END`;

/** SPEC §10. */
export const MAX_SCHEDULES = 20;

/** `60000` → `1m`, `1500` → `1.5s`: a minimum as the user writes durations. */
export function durationText(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** Bounds one sweep, so a backlog is worked off over several ticks. */
const MAX_RUNS_PER_SWEEP = 500;

/** Scheduled simulations (SPEC §7), stored in Postgres so they survive restarts. */
@Injectable()
export class SchedulesService {
  constructor(
    private readonly db: DataSource,
    private readonly simulator: Simulator,
    @Inject(LoadSimulatorEnv) private readonly env: LoadSimulatorEnv,
  ) {}

  /** At most MAX_SCHEDULES per account, `every` at least SCHEDULE_MIN_EVERY_MS (SPEC §10). */
  async create(caller: Caller, dto: ScheduleDto) {
    assertMayActFor(caller, dto.client_id);
    const every = everyMs(dto.every) ?? 0; // the DTO has checked it
    if (every < this.env.SCHEDULE_MIN_EVERY_MS) throw new HttpException(simpleError(`every must be at least ${durationText(this.env.SCHEDULE_MIN_EVERY_MS)}`), 400);
    const s = specOf(dto);
    return this.db.transaction(async (m) => {
      // A lock per account (until commit) makes count-then-insert safe under concurrent creates.
      await m.query('SELECT pg_advisory_xact_lock(hashtext($1), $2)', ['posthooks:load_simulator:schedules', s.client_id]);
      const [{ n }] = await m.query<{ n: number }[]>('SELECT count(*)::int AS n FROM schedules WHERE client_id = $1', [s.client_id]);
      if (n >= MAX_SCHEDULES) throw new HttpException(simpleError(`an account has at most ${MAX_SCHEDULES} schedules`), 400);
      const [row] = await m.query<ScheduleRow[]>(
        `INSERT INTO schedules (client_id, destination_id, integration_name, tables, outcome, num_rows, every, every_ms, next_run_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::bigint, now() + $8::bigint * interval '1 millisecond') RETURNING *`,
        [s.client_id, s.destination_id, s.integration_name, s.tables, s.outcome, s.num_rows, dto.every, every],
      );
      return scheduleView(row);
    });
  }

  async list(caller: Caller) {
    const rows =
      caller.kind === 'admin'
        ? await this.db.query<ScheduleRow[]>('SELECT * FROM schedules ORDER BY id')
        : await this.db.query<ScheduleRow[]>('SELECT * FROM schedules WHERE client_id = $1 ORDER BY id', [caller.accountId]);
    return rows.map(scheduleView);
  }

  /**
   * Waits for a run in progress (it holds the row lock), so once this returns the
   * schedule publishes nothing more.
   */
  async delete(caller: Caller, id: number) {
    const owner = caller.kind === 'admin' ? null : caller.accountId;
    const [[row]] = await this.db.query<[ScheduleRow[], number]>('DELETE FROM schedules WHERE id = $1 AND ($2::integer IS NULL OR client_id = $2) RETURNING *', [id, owner]);
    if (!row) throw notFound();
    return scheduleView(row);
  }

  /**
   * Runs every due schedule once; returns how many ran. Each run is its own transaction
   * holding its row (`FOR UPDATE SKIP LOCKED`), so replicas share the due schedules and
   * never run one twice. The event ids derive from the schedule and its due time: if the
   * process dies between publishing and committing, the retried run publishes the same
   * Nats-Msg-Ids and the stream keeps one copy. A failed publish rolls its run back and
   * ends the sweep; the next tick tries again.
   */
  async runDue(): Promise<number> {
    let runs = 0;
    while (runs < MAX_RUNS_PER_SWEEP) {
      const ran = await this.db.transaction(async (m) => {
        const [due] = await m.query<ScheduleRow[]>('SELECT * FROM schedules WHERE next_run_at <= now() ORDER BY next_run_at LIMIT 1 FOR UPDATE SKIP LOCKED');
        if (!due) return false;
        const dueAt = due.next_run_at.getTime();
        await this.simulator.run(specOf(due), (i) => `sched-${due.id}-${dueAt}-${i}`);
        await m.query(`UPDATE schedules SET next_run_at = ${ADVANCE}, last_run_at = now() WHERE id = $1`, [due.id]);
        return true;
      });
      if (!ran) break;
      runs++;
    }
    return runs;
  }
}
