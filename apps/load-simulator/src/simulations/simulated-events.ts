import { LoadEvent, Subjects } from '@posthooks/contracts';
import type { Outcome } from './simulation.dto';

/** What a simulation or a schedule loads; num_rows already defaulted. */
export interface LoadSpec {
  client_id: number;
  destination_id: number | null;
  integration_name: string;
  tables: string[];
  outcome: Outcome;
  num_rows: number;
}

export const DEFAULT_NUM_ROWS = 100;
export const REJECTION_MESSAGE = 'simulated rejection';

export type LoadSubject = typeof Subjects.TableLoaded | typeof Subjects.TableRejected;

/**
 * The load events of one run, one per table (SPEC §4: one event = one table), with the
 * given ids. A rejected batch loaded nothing: num_rows 0, every row in num_rows_rejected.
 */
export function simulatedEvents(spec: LoadSpec, eventIds: string[], now: Date): { subject: LoadSubject; events: LoadEvent[] } {
  const rejected = spec.outcome === 'rejected';
  const events = spec.tables.map((table_name, i) =>
    Object.assign(new LoadEvent(), {
      client_id: spec.client_id,
      integration_name: spec.integration_name,
      table_name,
      event_id: eventIds[i],
      ...(spec.destination_id !== null ? { destination_id: spec.destination_id } : {}),
      num_rows: rejected ? 0 : spec.num_rows,
      num_rows_rejected: rejected ? spec.num_rows : 0,
      ...(rejected ? { error_message: REJECTION_MESSAGE } : {}),
      minimum_sdc_batched_at: now.toISOString(),
    }),
  );
  return { subject: rejected ? Subjects.TableRejected : Subjects.TableLoaded, events };
}
