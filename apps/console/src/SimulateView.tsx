import { FormEvent, useEffect, useState } from 'react';
import { Account, Api, Destination } from './api';
import { splitList } from './checks';
import { Alert, DestinationOptions, messageOf, Note } from './ui';

const MAX_TABLES = 100;

/** A simulated load (SPEC §7): one load event per table, delivered to the account's hooks like a real one. */
export function SimulateView({ api, account }: { api: Api; account: Account }) {
  const [destinations, setDestinations] = useState<Destination[]>([]);
  const [integration, setIntegration] = useState('shopify');
  const [tables, setTables] = useState('orders, customers');
  const [outcome, setOutcome] = useState<'loaded' | 'rejected'>('loaded');
  const [rows, setRows] = useState('100');
  const [destinationId, setDestinationId] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [eventIds, setEventIds] = useState<string[] | null>(null);

  useEffect(() => {
    api
      .destinations()
      .then(setDestinations)
      .catch((err: unknown) => setError(messageOf(err)));
  }, [api]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setEventIds(null);
    const list = splitList(tables);
    if (integration.trim() === '') return setError('Name the integration.');
    if (list.length === 0) return setError('Name at least one table.');
    if (list.length > MAX_TABLES) return setError(`a simulation has at most ${MAX_TABLES} tables`);
    const numRows = Number(rows);
    if (!Number.isInteger(numRows) || numRows < 0) return setError('Rows is a whole number, 0 or more.');
    setError(null);
    try {
      const result = await api.simulate({
        client_id: account.id,
        integration_name: integration.trim(),
        tables: list,
        outcome,
        num_rows: numRows,
        ...(destinationId ? { destination_id: Number(destinationId) } : {}),
      });
      setEventIds(result.event_ids);
    } catch (err) {
      setError(messageOf(err));
    }
  };

  return (
    <section aria-labelledby="simulate-heading">
      <h1 id="simulate-heading">Simulate a load</h1>
      <p>Publishes one load event per table, as a pipeline would: your hooks receive them, and they appear in Deliveries.</p>
      <form className="card" onSubmit={(e) => void submit(e)} noValidate aria-label="Simulate a load">
        <label>
          Integration
          <input type="text" value={integration} onChange={(e) => setIntegration(e.target.value)} />
        </label>
        <label>
          Tables (comma-separated)
          <input type="text" value={tables} onChange={(e) => setTables(e.target.value)} />
        </label>
        <label>
          Outcome
          <select value={outcome} onChange={(e) => setOutcome(e.target.value as 'loaded' | 'rejected')}>
            <option value="loaded">loaded (table.loaded)</option>
            <option value="rejected">rejected (table.rejected)</option>
          </select>
        </label>
        <label>
          Rows
          <input type="number" min={0} value={rows} onChange={(e) => setRows(e.target.value)} />
        </label>
        <label>
          Destination
          <select value={destinationId} onChange={(e) => setDestinationId(e.target.value)}>
            <option value="">Any (every hook of the account)</option>
            <DestinationOptions destinations={destinations} />
          </select>
        </label>
        <button type="submit">Run simulation</button>
      </form>
      <Alert>{error}</Alert>
      {eventIds ? (
        <Note>
          {eventIds.length} event{eventIds.length === 1 ? '' : 's'} published: {eventIds.join(', ')}. <a href="#/deliveries">See them in Deliveries</a>.
        </Note>
      ) : null}
    </section>
  );
}
