/** What a page shows while it waits, when a call failed, and when there is nothing to list. */
import type { ReactNode } from 'react';
import { statusColor } from './status';

export function Loading({ what }: { what: string }) {
  return (
    <p className="state loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      Loading {what}…
    </p>
  );
}

export function ErrorState({ message, onRetry }: { message: string; onRetry?: () => void }) {
  return (
    <div className="state alert alert-error" role="alert">
      <span>{message}</span>
      {onRetry && (
        <button type="button" className="button" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="state empty">{children}</p>;
}

/** A run or node state as a coloured, labelled pill. */
export function StatusBadge({ status }: { status: string }) {
  const c = statusColor(status);
  return (
    <span className="badge" style={{ background: c.bg, color: c.fg }}>
      {c.label}
    </span>
  );
}
