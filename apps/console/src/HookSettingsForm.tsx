import { FormEvent, useEffect, useState } from 'react';
import { Api, EVENT_TYPES, Hook, HookSettings } from './api';
import { splitList } from './checks';
import { Alert, messageOf, Note } from './ui';

const MAX_HEADERS = 10;
const RESERVED_HEADERS = /^(webhook-.*|content-type|content-length|host|user-agent|connection|transfer-encoding)$/i;
const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * A hook's settings (SPEC §9): event types, filters, custom headers, rate limit, verify.
 * Loaded only when opened. Header values come back as "***" and are never shown: headers
 * are sent only when the user edits them (then every value is entered again), so saving
 * other settings keeps the stored values.
 */
export function HookSettingsForm({ api, hookId, onClose }: { api: Api; hookId: number; onClose: () => void }) {
  const [hook, setHook] = useState<Hook | null>(null);
  const [eventTypes, setEventTypes] = useState<string[]>([]);
  const [integrations, setIntegrations] = useState('');
  const [tables, setTables] = useState('');
  const [headers, setHeaders] = useState<{ name: string; value: string }[]>([]);
  const [headersEdited, setHeadersEdited] = useState(false);
  const [rateLimit, setRateLimit] = useState('');
  const [verify, setVerify] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);

  useEffect(() => {
    api
      .hook(hookId)
      .then((h) => {
        const s: HookSettings = h.settings ?? { event_types: ['table.loaded', 'table.rejected'], integration_names: null, table_names: null, headers: {}, rate_limit_per_s: null };
        setHook(h);
        setEventTypes(s.event_types);
        setIntegrations((s.integration_names ?? []).join(', '));
        setTables((s.table_names ?? []).join(', '));
        // Stored values are never shown (the API answers "***"): the fields stay empty.
        setHeaders(Object.keys(s.headers ?? {}).map((name) => ({ name, value: '' })));
        setRateLimit(s.rate_limit_per_s === null ? '' : String(s.rate_limit_per_s));
      })
      .catch((err: unknown) => setProblem(messageOf(err)));
  }, [api, hookId]);

  const check = (): string | null => {
    if (eventTypes.length === 0) return 'Choose at least one event type.';
    if (headersEdited) {
      if (headers.length > MAX_HEADERS) return `At most ${MAX_HEADERS} custom headers.`;
      for (const h of headers) {
        if (!HTTP_TOKEN.test(h.name)) return `"${h.name}" is not a valid header name.`;
        if (RESERVED_HEADERS.test(h.name)) return `${h.name} is set by posthooks and cannot be a custom header.`;
        if (h.value === '') return `Enter the value of ${h.name} again: stored values are never shown, and saving headers replaces them all.`;
        if (/[\r\n]/.test(h.value) || new TextEncoder().encode(h.value).length > 1024) return `The value of ${h.name} must be one line of at most 1,024 bytes.`;
      }
    }
    if (rateLimit !== '' && !(Number.isInteger(Number(rateLimit)) && Number(rateLimit) >= 1 && Number(rateLimit) <= 1000)) return 'The rate limit is a whole number from 1 to 1000, or empty for none.';
    return null;
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setNote(null);
    const problemFound = check();
    setProblem(problemFound);
    if (problemFound) return;
    const body: Partial<HookSettings> & { verify?: boolean } = {
      event_types: eventTypes,
      integration_names: splitList(integrations).length ? splitList(integrations) : null,
      table_names: splitList(tables).length ? splitList(tables) : null,
      rate_limit_per_s: rateLimit === '' ? null : Number(rateLimit),
      ...(headersEdited ? { headers: Object.fromEntries(headers.map((h) => [h.name, h.value])) } : {}),
      ...(verify ? { verify: true } : {}),
    };
    try {
      const saved = await api.saveSettings(hookId, body);
      setHeaders(Object.keys(saved.settings?.headers ?? {}).map((name) => ({ name, value: '' })));
      setHeadersEdited(false);
      const v = saved.verify;
      setNote(
        v
          ? `Saved. Verify: ${v.error ? `failed (${v.error})` : `the endpoint answered ${v.status_code}`} in ${v.duration_ms} ms.`
          : 'Saved.',
      );
    } catch (err) {
      setProblem(messageOf(err));
    }
  };

  return (
    <form className="card" onSubmit={(e) => void submit(e)} noValidate aria-labelledby={`settings-${hookId}`}>
      <h2 id={`settings-${hookId}`}>Settings of hook {hookId}</h2>
      {hook ? <p className="url">{hook.config.url}</p> : null}
      <fieldset>
        <legend>Event types</legend>
        {EVENT_TYPES.map((type) => (
          <label key={type} className="inline">
            <input type="checkbox" checked={eventTypes.includes(type)} onChange={(e) => setEventTypes(e.target.checked ? [...eventTypes, type] : eventTypes.filter((t) => t !== type))} />
            {type}
          </label>
        ))}
      </fieldset>
      <label>
        Integrations (comma-separated; empty: all)
        <input type="text" value={integrations} onChange={(e) => setIntegrations(e.target.value)} />
      </label>
      <label>
        Tables (comma-separated; empty: all)
        <input type="text" value={tables} onChange={(e) => setTables(e.target.value)} />
      </label>
      <fieldset>
        <legend>Custom headers (values are shown as ***)</legend>
        {headers.map((h, i) => (
          <div className="row" key={i}>
            <label>
              Header name
              <input type="text" value={h.name} onChange={(e) => (setHeadersEdited(true), setHeaders(headers.map((x, j) => (j === i ? { ...x, name: e.target.value } : x))))} />
            </label>
            <label>
              Header value
              <input type="password" autoComplete="off" placeholder="***" value={h.value} onChange={(e) => (setHeadersEdited(true), setHeaders(headers.map((x, j) => (j === i ? { ...x, value: e.target.value } : x))))} />
            </label>
            <button type="button" onClick={() => (setHeadersEdited(true), setHeaders(headers.filter((_, j) => j !== i)))}>
              Remove header
            </button>
          </div>
        ))}
        <button type="button" disabled={headers.length >= MAX_HEADERS} onClick={() => (setHeadersEdited(true), setHeaders([...headers, { name: '', value: '' }]))}>
          Add header
        </button>
      </fieldset>
      <label>
        Rate limit (requests per second; empty: none)
        <input type="number" min={1} max={1000} value={rateLimit} onChange={(e) => setRateLimit(e.target.value)} />
      </label>
      <label className="inline">
        <input type="checkbox" checked={verify} onChange={(e) => setVerify(e.target.checked)} />
        Verify: send a ping with these settings
      </label>
      <div className="actions">
        <button type="submit" disabled={!hook}>
          Save settings
        </button>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      <Alert>{problem}</Alert>
      <Note>{note}</Note>
    </form>
  );
}
