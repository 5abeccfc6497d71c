/**
 * Recent runs × nodes, as Airflow's grid view: one column per run (oldest left), one row per node,
 * each cell the node's state in that run, linking to the run. A header row shows each run's state.
 */
import { formatTime } from '../ui/format';
import { statusColor } from '../ui/status';
import { runHref } from './links';
import type { Run } from './types';

export function RunsGrid({ runs, nodeOrder }: { runs: readonly Run[]; nodeOrder: readonly string[] }) {
  const columns = [...runs].reverse();
  const names = [...nodeOrder];
  for (const r of columns) for (const n of r.nodes) if (!names.includes(n.name)) names.push(n.name);
  return (
    <div className="runs-grid-wrap">
      <table className="runs-grid">
        <caption className="visually-hidden">
          Node states of the last {runs.length} runs, oldest first
        </caption>
        <thead>
          <tr>
            <th scope="col">Node</th>
            {columns.map((r) => {
              const c = statusColor(r.status);
              return (
                <th scope="col" key={r.id}>
                  <a
                    href={runHref(r.project, r.job, r.id)}
                    className="grid-run"
                    style={{ background: c.bg, color: c.fg }}
                    title={`Run ${r.id} · ${c.label} · scheduled ${formatTime(r.scheduled_at)}`}
                    aria-label={`Run ${r.id}, ${c.label}, scheduled ${formatTime(r.scheduled_at)}`}
                  >
                    {r.id}
                  </a>
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {names.map((name) => (
            <tr key={name}>
              <th scope="row">{name}</th>
              {columns.map((r) => {
                const node = r.nodes.find((n) => n.name === name);
                if (!node) return <td key={r.id} className="grid-cell none" aria-label="not in this run" />;
                const c = statusColor(node.status);
                const label = `${name} in run ${r.id}: ${c.label}${node.attempt > 1 ? `, attempt ${node.attempt}` : ''}`;
                return (
                  <td key={r.id} className="grid-cell">
                    <a
                      href={runHref(r.project, r.job, r.id)}
                      style={{ background: c.bg, borderColor: c.fg === '#ffffff' ? c.bg : c.fg }}
                      title={label}
                      data-status={node.status}
                    >
                      <span className="visually-hidden">{label}</span>
                    </a>
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
