/** Recent runs across every job, newest scheduled first, filtered by state, project and job. */
import { type FormEvent, useState } from 'react';
import { api, unwrap } from '../api/client';
import { jobPageHref, runHref } from '../runs/links';
import type { Run } from '../runs/types';
import '../runs/runs.css';
import { formatDuration, formatTime, timeProps } from '../ui/format';
import { PageHeader } from '../ui/Layout';
import { Empty, ErrorState, Loading, StatusBadge } from '../ui/states';
import { statusColor } from '../ui/status';
import { useApi } from '../ui/use-api';

const STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
const PAGE = 50;

interface Filters {
  status: string;
  project: string;
  job: string;
}

export default function RunsPage() {
  const [filters, setFilters] = useState<Filters>({ status: '', project: '', job: '' });
  const [draft, setDraft] = useState<Filters>(filters);
  /** Scheduled times of the last run of each page before this one (paging with `before`). */
  const [pages, setPages] = useState<string[]>([]);
  const before = pages[pages.length - 1];
  const runs = useApi(
    async (signal) =>
      unwrap(
        await api.GET('/api/v1beta1/runs', {
          signal,
          params: {
            query: {
              limit: PAGE,
              ...(filters.status ? { status: filters.status as (typeof STATES)[number] } : {}),
              ...(filters.project ? { project: filters.project } : {}),
              ...(filters.job ? { job: filters.job } : {}),
              ...(before ? { before } : {}),
            },
          },
        }),
      ).runs as Run[],
    [filters, before],
  );
  const apply = (e: FormEvent) => {
    e.preventDefault();
    setPages([]);
    setFilters({ status: draft.status, project: draft.project.trim(), job: draft.job.trim() });
  };
  return (
    <div className="runs-page h4-page">
      <PageHeader title="Runs" subtitle="Recent runs of every job, newest scheduled first." />
      <form className="toolbar" onSubmit={apply} aria-label="Filter runs">
        <label className="field">
          State
          <select value={draft.status} onChange={(e) => setDraft({ ...draft, status: e.target.value })}>
            <option value="">any</option>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {statusColor(s).label}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          Project
          <input value={draft.project} onChange={(e) => setDraft({ ...draft, project: e.target.value })} />
        </label>
        <label className="field">
          Job
          <input value={draft.job} onChange={(e) => setDraft({ ...draft, job: e.target.value })} />
        </label>
        <button type="submit" className="button">
          Apply
        </button>
        <button type="button" className="button" onClick={() => runs.reload()}>
          Refresh
        </button>
      </form>
      {runs.status === 'error' && <ErrorState message={runs.error} onRetry={runs.reload} />}
      {runs.status === 'loading' && !runs.data && <Loading what="runs" />}
      {runs.data && runs.data.length === 0 && (
        <Empty>
          No runs{filters.status || filters.project || filters.job ? ' match these filters' : ' yet'}.
        </Empty>
      )}
      {runs.data && runs.data.length > 0 && <RunsTable runs={runs.data} />}
      <div className="pager">
        {pages.length > 0 && (
          <button type="button" className="button" onClick={() => setPages(pages.slice(0, -1))}>
            Newer
          </button>
        )}
        {runs.data && runs.data.length === PAGE && (
          <button
            type="button"
            className="button"
            onClick={() => setPages([...pages, runs.data![runs.data!.length - 1]!.scheduled_at])}
          >
            Older
          </button>
        )}
      </div>
    </div>
  );
}

export function RunsTable({ runs }: { runs: readonly Run[] }) {
  return (
    <table className="list runs-table">
      <caption className="visually-hidden">Runs</caption>
      <thead>
        <tr>
          <th scope="col">Run</th>
          <th scope="col">Job</th>
          <th scope="col">State</th>
          <th scope="col">Nodes</th>
          <th scope="col">Trigger</th>
          <th scope="col">Scheduled</th>
          <th scope="col">Started</th>
          <th scope="col">Duration</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((r) => (
          <tr key={r.id} data-run={r.id}>
            <td>
              <a href={runHref(r.project, r.job, r.id)}>#{r.id}</a>
            </td>
            <td>
              <a href={jobPageHref(r.project, r.namespace, r.job)}>{r.job}</a>
              <div className="muted fine">
                {r.project} / {r.namespace}
              </div>
            </td>
            <td>
              <StatusBadge status={r.status} />
              {r.note && r.status === 'queued' && <div className="muted fine run-note-short">{r.note}</div>}
            </td>
            <td>
              <span className="node-strip">
                {r.nodes.map((n) => {
                  const c = statusColor(n.status);
                  return (
                    <span
                      key={n.name}
                      className="node-dot"
                      style={{ background: c.bg, borderColor: c.fg === '#ffffff' ? c.bg : c.fg }}
                      title={`${n.name}: ${c.label}`}
                    />
                  );
                })}
              </span>
              <span className="visually-hidden">
                {r.nodes.map((n) => `${n.name} ${statusColor(n.status).label}`).join(', ')}
              </span>
            </td>
            <td>{r.trigger}</td>
            <td>
              <time {...timeProps(r.scheduled_at)}>{formatTime(r.scheduled_at)}</time>
            </td>
            <td>
              <time {...timeProps(r.started_at)}>{formatTime(r.started_at)}</time>
            </td>
            <td>{formatDuration(r.duration_ms)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
