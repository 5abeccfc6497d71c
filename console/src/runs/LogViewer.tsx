/**
 * One node's log lines, monospace, following the end while the reader is at the bottom (scrolling
 * up stops the following; back at the bottom it resumes). Lines of each attempt are marked.
 */
import { useLayoutEffect, useRef } from 'react';
import type { LogLine } from './types';

/** Lines drawn at most; older ones stay readable with `optimus job logs`. */
export const LOG_SHOWN_MAX = 5000;

export function LogViewer({
  node,
  lines,
  live,
  status,
}: {
  node: string | null;
  lines: readonly LogLine[];
  live: boolean;
  status: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const shown = lines.length > LOG_SHOWN_MAX ? lines.slice(-LOG_SHOWN_MAX) : lines;
  // biome-ignore lint/correctness/useExhaustiveDependencies: follow the end whenever lines arrive
  useLayoutEffect(() => {
    const el = box.current;
    if (el && atBottom.current) el.scrollTop = el.scrollHeight;
  }, [shown.length, node]);
  if (!node) return <p className="muted">Select a node to read its log.</p>;
  return (
    <section className="log-panel" aria-labelledby="log-title">
      <h3 id="log-title">
        Log of <code>{node}</code>{' '}
        <span className="muted fine">
          {live ? '· live' : '· final'} · {lines.length} line{lines.length === 1 ? '' : 's'}
        </span>
      </h3>
      {lines.length > LOG_SHOWN_MAX && (
        <p className="muted fine">
          Showing the last {LOG_SHOWN_MAX} lines; read all of them with <code>optimus job logs</code>.
        </p>
      )}
      <div
        ref={box}
        className="log-box"
        role="log"
        aria-live={live ? 'polite' : 'off'}
        aria-label={`Log of node ${node}`}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: the log scrolls, so keyboard users must reach it
        tabIndex={0}
        onScroll={(e) => {
          const el = e.currentTarget;
          atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
      >
        {shown.length === 0 ? (
          <span className="muted">
            {status === 'pending' || status === 'queued' ? 'The node has not started yet.' : 'No output.'}
          </span>
        ) : (
          shown.map((l, i) => (
            <div key={l.id} className={`log-line ${l.stream}`}>
              {(i === 0 || shown[i - 1]!.attempt !== l.attempt) && (
                <div className="log-attempt">attempt {l.attempt}</div>
              )}
              <span className="log-time">{l.at.slice(11, 23)}</span>
              <span className="log-text">{l.line}</span>
            </div>
          ))
        )}
      </div>
    </section>
  );
}
