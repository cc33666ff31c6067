import { ReactNode, useEffect, useRef, useState } from 'react';
import { ApiError, Destination } from './api';

/** A failure's text for the user: the contract's message, or what went wrong on the way. */
export function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  return 'The service could not be reached. Try again in a moment.';
}

/** The account's destinations as the `<option>`s of a destination field: "name (#id)", valued by id. */
export function DestinationOptions({ destinations }: { destinations: Destination[] }) {
  return (
    <>
      {destinations.map((d) => (
        <option key={d.id} value={d.id}>
          {d.name} (#{d.id})
        </option>
      ))}
    </>
  );
}

/** What went wrong, read out by screen readers as it appears. */
export function Alert({ children }: { children: ReactNode }) {
  if (!children) return null;
  return (
    <p role="alert" className="alert">
      {children}
    </p>
  );
}

/** A success note, polite for screen readers. */
export function Note({ children }: { children: ReactNode }) {
  if (!children) return null;
  return (
    <p role="status" className="note">
      {children}
    </p>
  );
}

/**
 * A secret (signing secret, incoming-webhook URL) shown once: it lives only in this
 * component's props, never in the URL, storage or a log, and is gone once dismissed.
 */
export function ShownOnce({ label, value, onDone }: { label: string; value: string; onDone: () => void }) {
  const [copied, setCopied] = useState<'copied' | 'failed' | undefined>();
  const field = useRef<HTMLInputElement>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied('copied');
    } catch {
      // No clipboard permission (an http:// origin, a browser setting): select it for Ctrl+C.
      field.current?.select();
      setCopied('failed');
    }
  };
  return (
    <div className="shown-once" role="group" aria-label={label}>
      <label>
        {label} <span className="hint">(shown once: copy it now)</span>
        <input ref={field} type="text" readOnly value={value} className="secret" onFocus={(e) => e.currentTarget.select()} />
      </label>
      <div className="actions">
        <button type="button" onClick={() => void copy()}>
          Copy
        </button>
        <button type="button" onClick={onDone}>
          Done
        </button>
      </div>
      <Note>{copied === 'copied' ? 'Copied to the clipboard.' : copied === 'failed' ? 'Selected: press Ctrl+C (or ⌘C) to copy.' : null}</Note>
    </div>
  );
}

/** Calls `load` now and every `everyMs` while mounted and the tab is visible. */
export function usePolling(load: () => Promise<void>, everyMs: number, deps: unknown[]) {
  const latest = useRef(load);
  latest.current = load;
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      if (!document.hidden) await latest.current().catch(() => undefined);
      if (!stopped) timer = setTimeout(() => void tick(), everyMs);
    };
    void tick();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, deps);
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}
