/** A run's nodes: state, each attempt with its duration, exit code and error; a row selects the node's log. */
import { formatDuration, formatTime, timeProps } from '../ui/format';
import { StatusBadge } from '../ui/states';
import type { RunNode } from './types';

export function NodeTable({
  nodes,
  selected,
  onSelect,
}: {
  nodes: readonly RunNode[];
  selected: string | null;
  onSelect: (name: string) => void;
}) {
  return (
    <table className="list node-table">
      <caption className="visually-hidden">Nodes of this run</caption>
      <thead>
        <tr>
          <th scope="col">Node</th>
          <th scope="col">Stage</th>
          <th scope="col">State</th>
          <th scope="col">Attempts</th>
          <th scope="col">Started</th>
          <th scope="col">Duration</th>
          <th scope="col">Exit code</th>
          <th scope="col">Error</th>
        </tr>
      </thead>
      <tbody>
        {nodes.map((n) => (
          <tr key={n.name} className={selected === n.name ? 'selected' : undefined} data-node={n.name}>
            <th scope="row">
              <button
                type="button"
                className="link-button"
                aria-pressed={selected === n.name}
                onClick={() => onSelect(n.name)}
                title="Show this node's log"
              >
                {n.name}
              </button>
              {n.type !== n.name && <div className="muted fine">{n.type}</div>}
            </th>
            <td>{n.stage}</td>
            <td>
              <StatusBadge status={n.status} />
              {n.cancel_requested && n.status === 'running' && <div className="muted fine">stopping…</div>}
            </td>
            <td>
              {n.attempts.length === 0 ? (
                <span className="muted">none</span>
              ) : (
                <ol className="attempts">
                  {n.attempts.map((a) => (
                    <li key={a.attempt} data-attempt={a.attempt}>
                      #{a.attempt} <StatusBadge status={a.status} /> {formatDuration(a.duration_ms)}
                      {a.exit_code !== null && <span className="muted"> · exit {a.exit_code}</span>}
                      {a.error && <div className="attempt-error">{a.error}</div>}
                    </li>
                  ))}
                </ol>
              )}
            </td>
            <td>
              <time {...timeProps(n.started_at)}>{formatTime(n.started_at)}</time>
            </td>
            <td>{formatDuration(n.duration_ms)}</td>
            <td>{n.exit_code ?? '—'}</td>
            <td className="node-error">{n.error ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
