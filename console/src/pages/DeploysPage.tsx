/**
 * The deploy history, newest first across namespaces: what each deploy added, changed and deleted,
 * and for a failed one the problems that stopped it.
 */
import { Fragment, useId, useState } from 'react';
import { Link } from 'wouter';
import { api, unwrap } from '../api/client';
import type { ApiData } from '../api/types';
import { formatAgo, formatDuration, timeProps } from '../ui/format';
import { PageHeader } from '../ui/Layout';
import { href } from '../ui/links';
import { Empty, ErrorState, Loading } from '../ui/states';
import { STATUS_COLOR, type StatusColor } from '../ui/status';
import { useApi } from '../ui/use-api';

type Deploy = ApiData<'/api/v1beta1/deploys', 'get'>['deploys'][number];

const DEPLOY_STATUS: Record<string, StatusColor> = {
  succeeded: STATUS_COLOR.succeeded,
  failed: STATUS_COLOR.failed,
  unchanged: { ...STATUS_COLOR.pending, label: 'Unchanged' },
};

const LIMITS = [50, 200, 1000];

export default function DeploysPage() {
  const [project, setProject] = useState('');
  const [namespace, setNamespace] = useState('');
  const [limit, setLimit] = useState(50);
  const projects = useApi(
    async (signal) => unwrap(await api.GET('/api/v1beta1/project', { signal })).projects,
    [],
  );
  const namespaces = useApi(
    async (signal) =>
      project
        ? unwrap(
            await api.GET('/api/v1beta1/project/{project}/namespace', {
              params: { path: { project } },
              signal,
            }),
          ).namespaces
        : [],
    [project],
  );
  const deploys = useApi(
    async (signal) =>
      unwrap(
        await api.GET('/api/v1beta1/deploys', {
          params: {
            query: { limit, ...(project ? { project } : {}), ...(project && namespace ? { namespace } : {}) },
          },
          signal,
        }),
      ).deploys,
    [project, namespace, limit],
  );
  const ids = { project: useId(), namespace: useId(), limit: useId() };
  return (
    <>
      <PageHeader title="Deploys" subtitle="What each deploy added, changed and deleted, newest first." />
      <form className="toolbar" aria-label="Filter deploys" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor={ids.project}>Project</label>
          <select
            id={ids.project}
            value={project}
            onChange={(e) => {
              setProject(e.target.value);
              setNamespace('');
            }}
          >
            <option value="">All</option>
            {(projects.data ?? []).map((p) => (
              <option key={p.name}>{p.name}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.namespace}>Namespace</label>
          <select
            id={ids.namespace}
            value={namespace}
            onChange={(e) => setNamespace(e.target.value)}
            disabled={!project}
            title={project ? undefined : 'Choose a project first'}
          >
            <option value="">All</option>
            {(namespaces.data ?? []).map((n) => (
              <option key={n.name}>{n.name}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.limit}>Show</label>
          <select id={ids.limit} value={limit} onChange={(e) => setLimit(Number(e.target.value))}>
            {LIMITS.map((l) => (
              <option key={l} value={l}>
                last {l}
              </option>
            ))}
          </select>
        </div>
      </form>
      {deploys.status === 'error' && (
        <ErrorState message={`Cannot list the deploys: ${deploys.error}`} onRetry={deploys.reload} />
      )}
      {!deploys.data ? (
        deploys.status === 'loading' && <Loading what="deploys" />
      ) : deploys.data.length === 0 ? (
        <Empty>No deploy yet{project ? ' here' : ''}: deploy with `optimus job deploy`.</Empty>
      ) : (
        <DeployTable deploys={deploys.data} />
      )}
    </>
  );
}

function DeployTable({ deploys }: { deploys: Deploy[] }) {
  const [open, setOpen] = useState<Set<number>>(
    () =>
      new Set(
        deploys
          .filter((d) => d.status === 'failed')
          .slice(0, 1)
          .map((d) => d.id),
      ),
  );
  const toggle = (id: number) =>
    setOpen((s) => {
      const next = new Set(s);
      if (!next.delete(id)) next.add(id);
      return next;
    });
  return (
    <table className="list deploys">
      <caption className="visually-hidden">Deploys, newest first</caption>
      <thead>
        <tr>
          <th scope="col">Deploy</th>
          <th scope="col">When</th>
          <th scope="col">Project / namespace</th>
          <th scope="col">Status</th>
          <th scope="col" className="num">
            Added
          </th>
          <th scope="col" className="num">
            Changed
          </th>
          <th scope="col" className="num">
            Deleted
          </th>
          <th scope="col" className="num">
            Unchanged
          </th>
          <th scope="col">Took</th>
          <th scope="col">
            <span className="visually-hidden">Details</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {deploys.map((d) => {
          const c = DEPLOY_STATUS[d.status] ?? STATUS_COLOR.pending;
          const problems = problemList(d.problems);
          const hasDetail = d.added.length + d.modified.length + d.deleted.length + problems.length > 0;
          const detailId = `deploy-${d.id}-detail`;
          return (
            <Fragment key={d.id}>
              <tr className={d.status === 'failed' ? 'row-failed' : undefined}>
                <th scope="row">#{d.id}</th>
                <td>
                  <time {...timeProps(d.finished_at)}>{formatAgo(d.finished_at)}</time>
                </td>
                <td>
                  {d.project} <span className="muted">/</span> {d.namespace}
                </td>
                <td>
                  <span className="badge" style={{ background: c.bg, color: c.fg }}>
                    {c.label}
                  </span>
                  {problems.length > 0 && (
                    <span className="muted">
                      {' '}
                      {problems.length} {problems.length === 1 ? 'problem' : 'problems'}
                    </span>
                  )}
                </td>
                <td className="num">{d.added.length}</td>
                <td className="num">{d.modified.length}</td>
                <td className="num">{d.deleted.length}</td>
                <td className="num">{d.unchanged}</td>
                <td>
                  {formatDuration(new Date(d.finished_at).getTime() - new Date(d.started_at).getTime())}
                </td>
                <td>
                  {hasDetail && (
                    <button
                      type="button"
                      className="button small disclosure"
                      aria-expanded={open.has(d.id)}
                      aria-controls={detailId}
                      onClick={() => toggle(d.id)}
                    >
                      Details<span className="visually-hidden"> of deploy {d.id}</span>
                    </button>
                  )}
                </td>
              </tr>
              {hasDetail && open.has(d.id) && (
                <tr id={detailId} className="detail">
                  <td colSpan={10}>
                    <DeployDetail deploy={d} problems={problems} />
                  </td>
                </tr>
              )}
            </Fragment>
          );
        })}
      </tbody>
    </table>
  );
}

interface Problem {
  message: string;
  code?: string;
  path?: string;
  file?: string;
  line?: number;
  hint?: string;
  severity?: string;
}

/** A deploy's stored problems (JSON as the deploy recorded them), each as far as it is readable. */
export function problemList(raw: unknown): Problem[] {
  if (!Array.isArray(raw)) return [];
  return raw.map((p: unknown) => {
    if (p && typeof p === 'object' && typeof (p as Problem).message === 'string') return p as Problem;
    return { message: typeof p === 'string' ? p : JSON.stringify(p) };
  });
}

function DeployDetail({ deploy: d, problems }: { deploy: Deploy; problems: Problem[] }) {
  const jobs = (names: string[], linked: boolean) =>
    names.map((n) => (
      <li key={n}>
        {linked ? <Link href={href.job(d.project, d.namespace, n)}>{n}</Link> : <code>{n}</code>}
      </li>
    ));
  return (
    <div className="deploy-detail">
      {problems.length > 0 && (
        <div>
          <h3>Problems</h3>
          <ul className="problems">
            {problems.map((p, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: problems have no identity of their own
              <li key={i} className={p.severity === 'warning' ? 'warning' : 'error'}>
                {p.code && <code className="code">{p.code}</code>} {p.message}
                {(p.file || p.path) && (
                  <span className="muted">
                    {' '}
                    — {p.file ?? p.path}
                    {p.line ? `:${p.line}` : ''}
                  </span>
                )}
                {p.hint && <div className="muted">{p.hint}</div>}
              </li>
            ))}
          </ul>
        </div>
      )}
      {d.added.length > 0 && (
        <div>
          <h3>Added</h3>
          <ul className="names">{jobs(d.added, d.status !== 'failed')}</ul>
        </div>
      )}
      {d.modified.length > 0 && (
        <div>
          <h3>Changed</h3>
          <ul className="names">{jobs(d.modified, d.status !== 'failed')}</ul>
        </div>
      )}
      {d.deleted.length > 0 && (
        <div>
          <h3>Deleted</h3>
          <ul className="names">{jobs(d.deleted, false)}</ul>
        </div>
      )}
    </div>
  );
}
