import { FormEvent, useCallback, useEffect, useState } from 'react';
import { Account, Api, Destination, Hook, HOOK_LIMIT } from './api';
import { isValidHookUrl } from './checks';
import { HookSettingsForm } from './HookSettingsForm';
import { Alert, DestinationOptions, formatTime, messageOf, Note, ShownOnce } from './ui';

// The texts of SPEC §3's errors, shown before any request when the page can tell.
const INVALID_URI = 'Invalid URI';
const LIMIT_MESSAGE = `You have exceeded the limit of ${HOOK_LIMIT} hooks.`;
const NOT_ENTITLED = 'Client does not have access to hooks.';

const REASONS: Record<string, string> = {
  manual: 'disabled by a user',
  plan_downgrade: 'the plan has no post-load hooks',
  endpoint_gone: 'the endpoint answered 410 Gone',
  failing: 'the endpoint kept failing',
};

/** Stitch's "Post-load hooks" section of Notification Settings, with the extensions of SPEC §3 and §9. */
export function HooksView({ api, account }: { api: Api; account: Account }) {
  const [hooks, setHooks] = useState<Hook[] | null>(null);
  const [destinations, setDestinations] = useState<Destination[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [secret, setSecret] = useState<{ label: string; value: string } | null>(null);
  const [adding, setAdding] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState<number | null>(null);
  const [settingsOf, setSettingsOf] = useState<number | null>(null);

  const load = useCallback(async () => {
    try {
      const [h, d] = await Promise.all([api.hooks(), api.destinations()]);
      setHooks(h);
      setDestinations(d);
    } catch (err) {
      setError(messageOf(err));
    }
  }, [api]);
  useEffect(() => void load(), [load]);

  /** Runs one action, then shows its outcome and reloads the list. */
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

  const destinationName = (id: number) => destinations.find((d) => d.id === id)?.name ?? `#${id}`;

  return (
    <section aria-labelledby="hooks-heading">
      <h1 id="hooks-heading">Post-load hooks</h1>
      <p>
        A post-load hook sends a signed HTTPS request to your URL each time a table is loaded into a destination.{' '}
        {hooks ? (
          <strong>
            {hooks.length} of {HOOK_LIMIT} hooks
          </strong>
        ) : null}
      </p>
      {!account.entitled ? (
        <p role="note" className="alert">
          {NOT_ENTITLED} The {account.plan.replace('_', ' ')} plan{account.plan === 'free_trial' ? ' has ended its trial and' : ''} does not include post-load hooks: hooks cannot be added or re-enabled
          until the plan changes.
        </p>
      ) : null}
      <Alert>{error}</Alert>
      <Note>{note}</Note>
      {secret ? <ShownOnce label={secret.label} value={secret.value} onDone={() => setSecret(null)} /> : null}

      {adding ? (
        <AddHookForm
          destinations={destinations}
          hookCount={hooks?.length ?? 0}
          onCancel={() => setAdding(false)}
          onSave={async (url, destinationId) => {
            const created = await api.createHook(url, destinationId);
            setAdding(false);
            setSecret({ label: `Signing secret of hook ${created.id}`, value: created.secret });
            await load();
          }}
        />
      ) : (
        <button type="button" onClick={() => setAdding(true)} disabled={!account.entitled} aria-describedby={!account.entitled ? 'hooks-heading' : undefined}>
          Add Webhook
        </button>
      )}

      {hooks && hooks.length === 0 ? <p>No hooks yet.</p> : null}
      {hooks && hooks.length > 0 ? (
        <div className="table-wrap">
          <table className="cards">
            <caption className="visually-hidden">Post-load hooks of this account</caption>
            <thead>
              <tr>
                <th scope="col">URL</th>
                <th scope="col">Destination</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {hooks.map((hook) => (
                <tr key={hook.id} data-hook-id={hook.id}>
                  <td data-label="URL" className="url">{hook.config.url}</td>
                  <td data-label="Destination">{destinationName(hook.config.destination_id)}</td>
                  <td data-label="Status">
                    {hook.disabled_at ? (
                      <span className="status off">Disabled{hook.disabled_reason ? ` (${REASONS[hook.disabled_reason] ?? hook.disabled_reason})` : ''}</span>
                    ) : (
                      <span className="status on">Enabled</span>
                    )}
                  </td>
                  <td data-label="Created">{formatTime(hook.created_at)}</td>
                  <td data-label="Actions" className="actions">
                    {hook.disabled_at ? (
                      <button type="button" disabled={!account.entitled} onClick={() => void act(async () => (await api.setEnabled(hook.id, true), 'The webhook is enabled.'))}>
                        Re-enable this webhook
                      </button>
                    ) : (
                      <button type="button" onClick={() => void act(async () => (await api.setEnabled(hook.id, false), 'The webhook is disabled.'))}>
                        Disable this webhook
                      </button>
                    )}
                    <button type="button" onClick={() => void act(async () => (await api.sendTest(hook.id), 'A test event is on its way. See it in Deliveries.'))}>
                      Send test event
                    </button>
                    <button
                      type="button"
                      onClick={() =>
                        void act(async () => {
                          const rotated = await api.rotateSecret(hook.id);
                          setSecret({ label: `New signing secret of hook ${hook.id}`, value: rotated.secret });
                          return 'The secret is rotated: the old one keeps signing alongside the new one for 24 hours.';
                        })
                      }
                    >
                      Rotate secret
                    </button>
                    <a className="button" href={`#/hooks/${hook.id}/deliveries`}>
                      Deliveries
                    </a>
                    <button type="button" aria-expanded={settingsOf === hook.id} onClick={() => setSettingsOf(settingsOf === hook.id ? null : hook.id)}>
                      Settings
                    </button>
                    {confirmDelete === hook.id ? (
                      <span className="confirm" role="group" aria-label="Confirm deletion">
                        Delete this webhook for good?{' '}
                        <button
                          type="button"
                          className="danger"
                          autoFocus
                          onClick={() =>
                            void act(async () => {
                              await api.deleteHook(hook.id);
                              setConfirmDelete(null);
                              return 'The webhook is deleted.';
                            })
                          }
                        >
                          Delete
                        </button>
                        <button type="button" onClick={() => setConfirmDelete(null)}>
                          Cancel
                        </button>
                      </span>
                    ) : (
                      <button type="button" className="danger" onClick={() => setConfirmDelete(hook.id)}>
                        Delete this webhook
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {settingsOf !== null ? <HookSettingsForm key={settingsOf} api={api} hookId={settingsOf} onClose={() => setSettingsOf(null)} /> : null}
    </section>
  );
}

function AddHookForm({
  destinations,
  hookCount,
  onSave,
  onCancel,
}: {
  destinations: Destination[];
  hookCount: number;
  onSave: (url: string, destinationId: number) => Promise<void>;
  onCancel: () => void;
}) {
  const [url, setUrl] = useState('');
  const [destinationId, setDestinationId] = useState<number | ''>(destinations[0]?.id ?? '');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (destinationId === '' && destinations[0]) setDestinationId(destinations[0].id);
  }, [destinations, destinationId]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    // The checks the server would answer with a 400, done here first.
    if (!isValidHookUrl(url.trim())) return setProblem(INVALID_URI);
    if (hookCount >= HOOK_LIMIT) return setProblem(LIMIT_MESSAGE);
    if (destinationId === '') return setProblem('Add a destination first (Destinations).');
    setBusy(true);
    setProblem(null);
    try {
      await onSave(url.trim(), destinationId);
    } catch (err) {
      setProblem(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card" onSubmit={(e) => void submit(e)} noValidate aria-label="Add Webhook">
      <label>
        Webhook URL
        <input type="url" name="url" required placeholder="https://example.com/hooks/landed" value={url} onChange={(e) => setUrl(e.target.value)} autoFocus />
      </label>
      <label>
        Destination
        <select value={destinationId} onChange={(e) => setDestinationId(Number(e.target.value))}>
          <DestinationOptions destinations={destinations} />
        </select>
      </label>
      <div className="actions">
        <button type="submit" disabled={busy}>
          Save Webhook
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
      <Alert>{problem}</Alert>
    </form>
  );
}
