import { FormEvent, useCallback, useState } from 'react';
import { Api, Destination, Integration, IntegrationLoad } from './api';
import { isValidPrimaryKey } from './checks';
import { Alert, DestinationOptions, formatTime, messageOf, Note, ShownOnce, usePolling } from './ui';

const MAX_LIVE_URLS = 2;

/** Incoming-webhook integrations and their URLs (SPEC §7). */
export function IntegrationsView({ api }: { api: Api }) {
  const [integrations, setIntegrations] = useState<Integration[] | null>(null);
  const [destinations, setDestinations] = useState<Destination[]>([]);
  const [loads, setLoads] = useState<Map<number, IntegrationLoad>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [shown, setShown] = useState<{ label: string; value: string } | null>(null);
  const [name, setName] = useState('');
  const [destinationId, setDestinationId] = useState<number | ''>('');
  const [primaryKey, setPrimaryKey] = useState('');

  const load = useCallback(async () => {
    try {
      const [i, d, l] = await Promise.all([api.integrations(), api.destinations(), api.integrationLoads()]);
      setIntegrations(i);
      setDestinations(d);
      setLoads(new Map(l.map((x) => [x.integration_id, x])));
      setDestinationId((current) => (current === '' && d[0] ? d[0].id : current));
    } catch (err) {
      setError(messageOf(err));
    }
  }, [api]);
  // Refreshed while open: the rows loaded and the last load change as records arrive.
  usePolling(load, 5000, [load]);

  const act = async (what: () => Promise<string | null>) => {
    setError(null);
    setNote(null);
    try {
      setNote(await what());
    } catch (err) {
      setError(messageOf(err));
    }
    await load();
  };

  const create = async (e: FormEvent) => {
    e.preventDefault();
    const trimmed = name.trim();
    if (!/^[a-z][a-z0-9_]{0,49}$/.test(trimmed)) return setError('The name is a lower-case identifier (a-z, 0-9, _) of at most 50 characters, starting with a letter.');
    if (/^pg(_|$)/.test(trimmed)) return setError('The name must not be pg or start with pg_: Postgres reserves pg_ for its own schemas.');
    if (integrations?.some((i) => i.name === trimmed && i.destination_id === destinationId)) return setError(`An integration named ${trimmed} already loads into that destination.`);
    if (primaryKey.trim() !== '' && !isValidPrimaryKey(primaryKey.trim())) return setError('The primary key is a top-level field name of at most 50 characters.');
    if (destinationId === '') return setError('Add a destination first (Destinations).');
    await act(async () => {
      const created = await api.createIntegration({ name: trimmed, destination_id: destinationId, ...(primaryKey.trim() ? { primary_key: primaryKey.trim() } : {}) });
      setShown({ label: `Webhook URL of ${created.name}`, value: created.webhook_url });
      setName('');
      setPrimaryKey('');
      return `Integration ${created.name} is created.`;
    });
  };

  const destinationName = (id: number) => destinations.find((d) => d.id === id)?.name ?? `#${id}`;

  return (
    <section aria-labelledby="integrations-heading">
      <h1 id="integrations-heading">Incoming webhooks</h1>
      <p>Post JSON to an integration&apos;s URL: posthooks loads the records into its destination, and that load fires your post-load hooks.</p>
      <Alert>{error}</Alert>
      <Note>{note}</Note>
      {shown ? <ShownOnce label={shown.label} value={shown.value} onDone={() => setShown(null)} /> : null}

      <form className="card" onSubmit={(e) => void create(e)} noValidate aria-label="Add integration">
        <h2>Add integration</h2>
        <label>
          Name
          <input type="text" value={name} onChange={(e) => setName(e.target.value)} placeholder="shopify" />
        </label>
        <label>
          Destination
          <select value={destinationId} onChange={(e) => setDestinationId(Number(e.target.value))}>
            <DestinationOptions destinations={destinations} />
          </select>
        </label>
        <label>
          Primary key (optional)
          <input type="text" value={primaryKey} onChange={(e) => setPrimaryKey(e.target.value)} placeholder="id" />
        </label>
        <button type="submit">Create integration</button>
      </form>

      {integrations && integrations.length === 0 ? <p>No integrations yet.</p> : null}
      {integrations && integrations.length > 0 ? (
        <div className="table-wrap">
          <table className="cards">
            <caption className="visually-hidden">Incoming-webhook integrations</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Destination</th>
                <th scope="col">Primary key</th>
                <th scope="col">Rows loaded</th>
                <th scope="col">Last load</th>
                <th scope="col">Webhook URLs</th>
              </tr>
            </thead>
            <tbody>
              {integrations.map((integration) => {
                const live = (integration.urls ?? []).filter((u) => !u.revoked_at);
                const loaded = loads.get(integration.id);
                return (
                  <tr key={integration.id} data-integration-id={integration.id}>
                    <td data-label="Name">
                      {integration.name}
                      {integration.schema ? <div className="hint">schema {integration.schema}</div> : null}
                    </td>
                    <td data-label="Destination">{destinationName(integration.destination_id)}</td>
                    <td data-label="Primary key">{integration.primary_key ?? <span className="hint">none (rows appended)</span>}</td>
                    <td data-label="Rows loaded" data-testid="rows-loaded">
                      {loaded ? loaded.rows_loaded.toLocaleString() : 0}
                      {loaded?.rows_rejected ? <div className="hint">{loaded.rows_rejected.toLocaleString()} rejected</div> : null}
                    </td>
                    <td data-label="Last load">{loaded ? formatTime(loaded.last_loaded_at) : 'never'}</td>
                    <td data-label="Webhook URLs" className="actions">
                      <ul className="urls">
                        {live.map((u) => (
                          <li key={u.id}>
                            URL #{u.id}, created {formatTime(u.created_at)}{' '}
                            <button type="button" className="danger" onClick={() => void act(async () => (await api.revokeUrl(integration.id, u.id), `URL #${u.id} is revoked: it answers 404 from now on.`))}>
                              Revoke
                            </button>
                          </li>
                        ))}
                      </ul>
                      <button
                        type="button"
                        disabled={live.length >= MAX_LIVE_URLS}
                        title={live.length >= MAX_LIVE_URLS ? `At most ${MAX_LIVE_URLS} live URLs: revoke one first.` : undefined}
                        onClick={() =>
                          void act(async () => {
                            const url = await api.addUrl(integration.id);
                            setShown({ label: `New webhook URL of ${integration.name}`, value: url.webhook_url });
                            return null;
                          })
                        }
                      >
                        Generate URL
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
