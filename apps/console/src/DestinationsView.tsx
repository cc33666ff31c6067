import { FormEvent, useCallback, useEffect, useState } from 'react';
import { Api, Destination } from './api';
import { postgresUrl } from './checks';
import { Alert, formatTime, messageOf, Note } from './ui';

const MAX_DESTINATIONS = 10;

/** Destinations (SPEC §2): the built-in database, or the account's own Postgres (password masked, never shown again). */
export function DestinationsView({ api }: { api: Api }) {
  const [destinations, setDestinations] = useState<Destination[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [kind, setKind] = useState<'built-in' | 'own'>('built-in');
  const [conn, setConn] = useState({ host: '', port: '5432', database: '', user: '', password: '' });

  const load = useCallback(async () => {
    try {
      setDestinations(await api.destinations());
    } catch (err) {
      setError(messageOf(err));
    }
  }, [api]);
  useEffect(() => void load(), [load]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setNote(null);
    if (name.trim() === '') return setError('Name the destination.');
    if ((destinations?.length ?? 0) >= MAX_DESTINATIONS) return setError(`an account has at most ${MAX_DESTINATIONS} destinations`);
    if (kind === 'own' && (conn.host.trim() === '' || conn.database.trim() === '' || conn.user.trim() === '')) return setError('Enter the host, database and user of your Postgres.');
    if (kind === 'own' && conn.port !== '' && !/^\d{1,5}$/.test(conn.port)) return setError('The port is a number.');
    setError(null);
    try {
      const created = await api.createDestination({
        name: name.trim(),
        type: 'postgres',
        ...(kind === 'own' ? { connection: { url: postgresUrl({ ...conn, host: conn.host.trim(), database: conn.database.trim(), user: conn.user.trim() }) } } : {}),
      });
      setName('');
      setConn({ host: '', port: '5432', database: '', user: '', password: '' });
      setNote(`Destination ${created.name} is added.`);
      await load();
    } catch (err) {
      setError(messageOf(err));
    }
  };

  return (
    <section aria-labelledby="destinations-heading">
      <h1 id="destinations-heading">Destinations</h1>
      <p>Where loads land. Hooks and incoming webhooks belong to a destination.</p>
      <Alert>{error}</Alert>
      <Note>{note}</Note>
      {destinations && destinations.length > 0 ? (
        <div className="table-wrap">
          <table className="cards">
            <caption className="visually-hidden">Destinations</caption>
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Database</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {destinations.map((d) => (
                <tr key={d.id}>
                  <td data-label="Id">{d.id}</td>
                  <td data-label="Name">{d.name}</td>
                  <td data-label="Type">{d.type}</td>
                  <td data-label="Database" className="url">{d.connection?.url ?? `built-in (posthooks_dest_${d.id})`}</td>
                  <td data-label="Created">{formatTime(d.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : destinations ? (
        <p>No destinations yet.</p>
      ) : null}

      <form className="card" onSubmit={(e) => void submit(e)} noValidate aria-label="Add destination">
        <h2>Add destination</h2>
        <label>
          Name
          <input type="text" value={name} onChange={(e) => setName(e.target.value)} placeholder="warehouse" />
        </label>
        <fieldset>
          <legend>Database</legend>
          <label className="inline">
            <input type="radio" name="kind" checked={kind === 'built-in'} onChange={() => setKind('built-in')} />
            Built-in (a database of its own on posthooks&apos; Postgres)
          </label>
          <label className="inline">
            <input type="radio" name="kind" checked={kind === 'own'} onChange={() => setKind('own')} />
            My Postgres
          </label>
        </fieldset>
        {kind === 'own' ? (
          <fieldset>
            <legend>Connection</legend>
            <label>
              Host
              <input type="text" value={conn.host} onChange={(e) => setConn({ ...conn, host: e.target.value })} placeholder="warehouse.internal" />
            </label>
            <label>
              Port
              <input type="text" inputMode="numeric" value={conn.port} onChange={(e) => setConn({ ...conn, port: e.target.value })} />
            </label>
            <label>
              Database
              <input type="text" value={conn.database} onChange={(e) => setConn({ ...conn, database: e.target.value })} />
            </label>
            <label>
              User
              <input type="text" autoComplete="off" value={conn.user} onChange={(e) => setConn({ ...conn, user: e.target.value })} />
            </label>
            <label>
              Password
              <input type="password" autoComplete="new-password" value={conn.password} onChange={(e) => setConn({ ...conn, password: e.target.value })} />
            </label>
          </fieldset>
        ) : null}
        <button type="submit">Add destination</button>
      </form>
    </section>
  );
}
