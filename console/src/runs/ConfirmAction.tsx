/**
 * A button whose action is asked for twice: the first press shows what will happen and a confirm
 * button; the server's refusal is shown beside it, in its own words.
 */
import { type ReactNode, useState } from 'react';

export function ConfirmAction({
  label,
  question,
  confirmLabel,
  danger,
  run,
  children,
}: {
  label: string;
  question: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  /** Does the action; resolves to an error line to show, or null when it worked. */
  run: () => Promise<string | null>;
  /** Extra fields shown with the question (a form's inputs). */
  children?: ReactNode;
}) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (!asking)
    return (
      <div className="action">
        <button
          type="button"
          className={`button${danger ? ' danger' : ''}`}
          onClick={() => {
            setError(null);
            setAsking(true);
          }}
        >
          {label}
        </button>
        {error && (
          <p className="alert alert-error" role="alert">
            {error}
          </p>
        )}
      </div>
    );
  return (
    <fieldset className="action confirm card">
      <legend className="visually-hidden">{label}</legend>
      <div>{question}</div>
      {children}
      <div className="confirm-buttons">
        <button
          type="button"
          className={`button primary${danger ? ' danger' : ''}`}
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            setError(null);
            const e = await run();
            setBusy(false);
            if (e) setError(e);
            else setAsking(false);
          }}
        >
          {busy ? 'Working…' : confirmLabel}
        </button>
        <button type="button" className="button" disabled={busy} onClick={() => setAsking(false)}>
          Keep as is
        </button>
      </div>
      {error && (
        <p className="alert alert-error" role="alert">
          {error}
        </p>
      )}
    </fieldset>
  );
}
