import { useCallback, useState } from 'react';
import { Api, Undelivered } from './api';
import { Alert, formatTime, messageOf, Note, usePolling } from './ui';

const STATUSES = [
  { value: 'failed', label: 'Failed (gave up)' },
  { value: 'pending', label: 'Pending (retrying)' },
  { value: 'cancelled', label: 'Cancelled (hook disabled)' },
];

/** "What was never delivered" across the account's hooks (SPEC §5, GET /v1/deliveries). */
export function UndeliveredView({ api }: { api: Api }) {
  const [status, setStatus] = useState('failed');
  const [rows, setRows] = useState<Undelivered[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setRows((await api.undelivered(status)).data);
      setError(null);
    } catch (err) {
      setError(messageOf(err));
    }
  }, [api, status]);
  usePolling(load, 5000, [load]);

  const redeliver = async (webhookId: string) => {
    try {
      await api.redeliver(webhookId);
      setNote(`Redelivery of ${webhookId} is queued.`);
      await load();
    } catch (err) {
      setError(messageOf(err));
    }
  };

  return (
    <section aria-labelledby="undelivered-heading">
      <h1 id="undelivered-heading">Undelivered</h1>
      <p>Every delivery of this account that has not reached its endpoint, across all hooks.</p>
      <label>
        Show
        <select value={status} onChange={(e) => setStatus(e.target.value)}>
          {STATUSES.map((s) => (
            <option key={s.value} value={s.value}>
              {s.label}
            </option>
          ))}
        </select>
      </label>
      <Alert>{error}</Alert>
      <Note>{note}</Note>
      {rows && rows.length === 0 ? <p>Nothing here: every delivery reached its endpoint.</p> : null}
      {rows && rows.length > 0 ? (
        <div className="table-wrap">
          <table className="cards">
            <caption className="visually-hidden">Undelivered webhooks</caption>
            <thead>
              <tr>
                <th scope="col">Created</th>
                <th scope="col">Hook</th>
                <th scope="col">Event type</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last error</th>
                <th scope="col">Next attempt</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.webhook_id} className="failed">
                  <td data-label="Created">{formatTime(r.created_at)}</td>
                  <td data-label="Hook">
                    <a href={`#/hooks/${r.hook_id}/deliveries`}>#{r.hook_id}</a>
                  </td>
                  <td data-label="Event type">{r.event_type}</td>
                  <td data-label="Attempts">{r.attempts}</td>
                  <td data-label="Last error" className="error">{r.last_error ?? ''}</td>
                  <td data-label="Next attempt">{formatTime(r.next_attempt_at)}</td>
                  <td data-label="Actions">
                    <button type="button" onClick={() => void redeliver(r.webhook_id)}>
                      Redeliver
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
