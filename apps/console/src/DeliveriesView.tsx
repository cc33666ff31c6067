import { FormEvent, useCallback, useEffect, useMemo, useState } from 'react';
import { Api, ApiError, Attempt, Hook } from './api';
import { hourlyCounts } from './checks';
import { HourlyChart } from './HourlyChart';
import { Alert, formatTime, messageOf, Note, usePolling } from './ui';

/** How often the view refreshes itself while open (polling: no long-lived connection). */
const REFRESH_MS = 5000;
/** The chart reads back at most this many attempts (pages of 100) to cover the last 24 h. */
const CHART_ATTEMPTS = 1000;

/** A hook's recent attempts, the last 24 h per hour, Redeliver and Recover since (SPEC §5). */
export function DeliveriesView({ api, hookId }: { api: Api; hookId?: number }) {
  const [hooks, setHooks] = useState<Hook[] | null>(null);
  const [attempts, setAttempts] = useState<Attempt[] | null>(null);
  const [updatedAt, setUpdatedAt] = useState<Date | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [since, setSince] = useState(() => toLocalInput(new Date(Date.now() - 24 * 3_600_000)));

  useEffect(() => {
    api
      .hooks()
      .then(setHooks)
      .catch((err: unknown) => setError(messageOf(err)));
  }, [api]);

  // Without a hook in the address, the first one.
  const selected = hookId ?? hooks?.[0]?.id;
  const hook = hooks?.find((h) => h.id === selected);

  const load = useCallback(async () => {
    if (selected === undefined || !hook) return;
    const dayAgo = Date.now() - 24 * 3_600_000;
    const all: Attempt[] = [];
    let cursor: string | undefined;
    try {
      do {
        const page = await api.attempts(selected, cursor);
        all.push(...page.data);
        cursor = page.next_cursor ?? undefined;
        const oldest = page.data[page.data.length - 1];
        if (!oldest || Date.parse(oldest.attempted_at) < dayAgo) break;
      } while (cursor && all.length < CHART_ATTEMPTS);
      setAttempts(all);
      setUpdatedAt(new Date());
      setError(null);
    } catch (err) {
      // A hook the dispatcher has not heard of yet (just created) has no log: not an error to show.
      if (err instanceof ApiError && err.status === 404) setAttempts([]);
      else setError(messageOf(err));
    }
  }, [api, selected, hook]);
  usePolling(load, REFRESH_MS, [load]);

  const chart = useMemo(() => hourlyCounts(attempts ?? [], updatedAt ?? new Date()), [attempts, updatedAt]);

  const redeliver = async (webhookId: string) => {
    setNote(null);
    try {
      await api.redeliver(webhookId);
      setNote(`Redelivery of ${webhookId} is queued.`);
      await load();
    } catch (err) {
      setError(messageOf(err));
    }
  };

  const recover = async (e: FormEvent) => {
    e.preventDefault();
    setNote(null);
    const at = new Date(since);
    if (Number.isNaN(at.getTime())) return setError('Choose a date and time to recover from.');
    if (at.getTime() > Date.now()) return setError('Recover since a time in the past.');
    try {
      const result = await api.recover(selected!, at.toISOString());
      setError(null);
      setNote(`Recovered ${result.recovered} event${result.recovered === 1 ? '' : 's'}${result.more ? ' (more remain: recover again)' : ''}.`);
      await load();
    } catch (err) {
      setError(messageOf(err));
    }
  };

  return (
    <section aria-labelledby="deliveries-heading">
      <h1 id="deliveries-heading">Deliveries</h1>
      {hooks && hooks.length === 0 ? <p>No hooks yet: add one in Post-load hooks.</p> : null}
      {hooks && hooks.length > 0 ? (
        <label>
          Hook
          <select value={selected} onChange={(e) => (window.location.hash = `#/hooks/${e.target.value}/deliveries`)}>
            {hooks.map((h) => (
              <option key={h.id} value={h.id}>
                #{h.id} {h.config.url}
              </option>
            ))}
          </select>
        </label>
      ) : null}
      {hooks && selected !== undefined && !hook ? <Alert>Hook {selected} is not one of this account&apos;s hooks.</Alert> : null}
      <Alert>{error}</Alert>
      <Note>{note}</Note>
      {hook && attempts ? (
        <>
          <h2>Last 24 hours</h2>
          <HourlyChart hours={chart.hours} succeeded={chart.succeeded} failed={chart.failed} />
          <details>
            <summary>The figures per hour</summary>
            <table className="compact">
              <thead>
                <tr>
                  <th scope="col">Hour</th>
                  <th scope="col">Succeeded</th>
                  <th scope="col">Failed</th>
                </tr>
              </thead>
              <tbody>
                {chart.hours.map((h, i) => (
                  <tr key={h}>
                    <td>{new Date(h).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })}</td>
                    <td>{chart.succeeded[i]}</td>
                    <td>{chart.failed[i]}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
          <p className="summary" data-testid="chart-totals">
            {chart.succeeded.reduce((a, b) => a + b, 0)} succeeded, {chart.failed.reduce((a, b) => a + b, 0)} failed in the last 24 hours.
          </p>

          <form className="inline-form" onSubmit={(e) => void recover(e)} noValidate>
            <label>
              Recover since
              <input type="datetime-local" value={since} onChange={(e) => setSince(e.target.value)} />
            </label>
            <button type="submit">Recover</button>
          </form>

          <h2>Recent attempts</h2>
          <p className="hint" role="status">
            Refreshes every {REFRESH_MS / 1000} s{updatedAt ? `; updated ${updatedAt.toLocaleTimeString()}` : ''}.
          </p>
          {attempts.length === 0 ? <p>No attempts yet.</p> : <AttemptsTable attempts={attempts.slice(0, 100)} onRedeliver={(id) => void redeliver(id)} />}
        </>
      ) : null}
    </section>
  );
}

function AttemptsTable({ attempts, onRedeliver }: { attempts: Attempt[]; onRedeliver: (webhookId: string) => void }) {
  return (
    <div className="table-wrap">
      <table className="cards">
        <caption className="visually-hidden">Recent delivery attempts, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Event type</th>
            <th scope="col">Integration.table</th>
            <th scope="col">Status</th>
            <th scope="col">Status code</th>
            <th scope="col">Duration</th>
            <th scope="col">Error</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {attempts.map((a) => (
            <tr key={`${a.webhook_id}-${a.attempt}-${a.attempted_at}`} className={a.status === 'failed' ? 'failed' : undefined} data-status={a.status}>
              <td data-label="Time">{formatTime(a.attempted_at)}</td>
              <td data-label="Event type">{a.event_type}</td>
              <td data-label="Integration.table">{a.integration_name ? `${a.integration_name}.${a.table_name ?? ''}` : '—'}</td>
              <td data-label="Status">
                <span className={`status ${a.status === 'succeeded' ? 'on' : a.status === 'failed' ? 'off' : 'wait'}`}>
                  {a.status === 'failed' ? '✗ Failed' : a.status === 'succeeded' ? '✓ Succeeded' : 'Pending'}
                </span>
                {a.attempt > 1 ? <span className="hint"> (attempt {a.attempt})</span> : null}
              </td>
              <td data-label="Status code">{a.status_code ?? '—'}</td>
              <td data-label="Duration">{a.duration_ms === null ? '—' : `${a.duration_ms} ms`}</td>
              <td data-label="Error" className="error">{a.error ?? ''}</td>
              <td data-label="Actions">
                <button type="button" onClick={() => onRedeliver(a.webhook_id)}>
                  Redeliver
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A date as a datetime-local input's value (local time, minutes). */
function toLocalInput(date: Date): string {
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}
