/**
 * Projects and their namespaces as registered on this server: configs, hook ordering rules,
 * window presets, and the secrets each may use, by name only (their values never leave the server).
 */
import { Link } from 'wouter';
import { api, unwrap } from '../api/client';
import type { ApiData } from '../api/types';
import { formatTime, timeProps } from '../ui/format';
import { PageHeader } from '../ui/Layout';
import { Empty, ErrorState, Loading } from '../ui/states';
import { useApi } from '../ui/use-api';
import { showJobsOf } from './JobsPage';

type Project = ApiData<'/api/v1beta1/project', 'get'>['projects'][number];

export default function ProjectsPage() {
  const projects = useApi(
    async (signal) => unwrap(await api.GET('/api/v1beta1/project', { signal })).projects,
    [],
  );
  return (
    <>
      <PageHeader
        title="Projects"
        subtitle="Each project's config, hook ordering rules and window presets; its namespaces and secrets."
      />
      {projects.status === 'error' && (
        <ErrorState message={`Cannot list the projects: ${projects.error}`} onRetry={projects.reload} />
      )}
      {!projects.data ? (
        projects.status === 'loading' && <Loading what="projects" />
      ) : projects.data.length === 0 ? (
        <Empty>No project is registered yet: register one with `optimus project register`.</Empty>
      ) : (
        <>
          <nav aria-label="Projects" className="toc">
            <ul>
              {projects.data.map((p) => (
                <li key={p.name}>
                  <button type="button" className="button link" onClick={() => jumpTo(`project-${p.name}`)}>
                    {p.name}
                  </button>
                </li>
              ))}
            </ul>
          </nav>
          {projects.data.map((p) => (
            <ProjectCard key={p.name} project={p} />
          ))}
        </>
      )}
    </>
  );
}

/** In-page jumps are buttons, not `#id` links: the hash is the router's. */
function jumpTo(id: string) {
  const el = document.getElementById(id);
  el?.scrollIntoView({ block: 'start' });
  el?.focus();
}

function ProjectCard({ project: p }: { project: Project }) {
  const namespaces = useApi(
    async (signal) =>
      unwrap(
        await api.GET('/api/v1beta1/project/{project}/namespace', {
          params: { path: { project: p.name } },
          signal,
        }),
      ).namespaces,
    [p.name],
  );
  const secrets = useApi(
    async (signal) =>
      unwrap(
        await api.GET('/api/v1beta1/project/{project}/secret', {
          params: { path: { project: p.name } },
          signal,
        }),
      ).secrets,
    [p.name],
  );
  const headingId = `project-${p.name}`;
  const presets = Object.entries(p.presets ?? {}) as [string, { description?: string; window?: unknown }][];
  return (
    <section className="card project" aria-labelledby={headingId}>
      <h2 id={headingId} tabIndex={-1}>
        {p.name}
      </h2>
      <p className="muted">
        Registered <time {...timeProps(p.created_at)}>{formatTime(p.created_at)}</time>, updated{' '}
        <time {...timeProps(p.updated_at)}>{formatTime(p.updated_at)}</time>
      </p>
      <div className="columns">
        <div>
          <h3>Config</h3>
          <ConfigTable config={p.config} caption={`Config of project ${p.name}`} />
        </div>
        <div>
          <h3>Hook ordering rules</h3>
          {p.plugin_dependencies.length === 0 ? (
            <Empty>None: hooks run in their default order.</Empty>
          ) : (
            <ol className="rules" start={0}>
              {p.plugin_dependencies.map((r, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: rules are numbered by their place
                <li key={i} value={i}>
                  <code>{r}</code>
                </li>
              ))}
            </ol>
          )}
        </div>
      </div>
      <h3>Window presets</h3>
      {presets.length === 0 ? (
        <Empty>{p.presets ? 'The presets file defines none.' : 'No presets file is registered.'}</Empty>
      ) : (
        <table className="list">
          <caption className="visually-hidden">Window presets of project {p.name}</caption>
          <thead>
            <tr>
              <th scope="col">Preset</th>
              <th scope="col">Window</th>
              <th scope="col">Description</th>
            </tr>
          </thead>
          <tbody>
            {presets.map(([name, preset]) => (
              <tr key={name}>
                <th scope="row">{name}</th>
                <td>
                  <code>{describeWindow(preset.window)}</code>
                </td>
                <td className="wrap">{preset.description ?? <span className="muted">—</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Namespaces</h3>
      {namespaces.status === 'error' && <ErrorState message={namespaces.error} onRetry={namespaces.reload} />}
      {!namespaces.data ? (
        namespaces.status === 'loading' && <Loading what="namespaces" />
      ) : namespaces.data.length === 0 ? (
        <Empty>No namespace is registered in this project.</Empty>
      ) : (
        <table className="list">
          <caption className="visually-hidden">Namespaces of project {p.name}</caption>
          <thead>
            <tr>
              <th scope="col">Namespace</th>
              <th scope="col">Config</th>
              <th scope="col">Jobs</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {namespaces.data.map((n) => (
              <tr key={n.name}>
                <th scope="row">{n.name}</th>
                <td className="wrap">
                  {Object.keys(n.config).length === 0 ? (
                    <span className="muted">none</span>
                  ) : (
                    Object.entries(n.config).map(([k, v]) => (
                      <span key={k} className="kv">
                        <code>{k}</code> = <code>{v}</code>
                      </span>
                    ))
                  )}
                </td>
                <td>
                  <Link href="/jobs" onClick={() => showJobsOf({ project: p.name, namespace: n.name })}>
                    Jobs in {n.name}
                  </Link>
                </td>
                <td>
                  <time {...timeProps(n.updated_at)}>{formatTime(n.updated_at)}</time>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Secrets</h3>
      {secrets.status === 'error' && <ErrorState message={secrets.error} onRetry={secrets.reload} />}
      {!secrets.data ? (
        secrets.status === 'loading' && <Loading what="secrets" />
      ) : secrets.data.length === 0 ? (
        <Empty>No secret is registered in this project.</Empty>
      ) : (
        <>
          <p className="muted">Names only: secret values never leave the server.</p>
          <table className="list">
            <caption className="visually-hidden">Secrets of project {p.name}</caption>
            <thead>
              <tr>
                <th scope="col">Secret</th>
                <th scope="col">Scope</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {secrets.data.map((s) => (
                <tr key={`${s.namespace ?? ''}/${s.name}`}>
                  <th scope="row">
                    <code>{s.name}</code>
                  </th>
                  <td>{s.namespace ? `namespace ${s.namespace}` : 'whole project'}</td>
                  <td>
                    <time {...timeProps(s.updated_at)}>{formatTime(s.updated_at)}</time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

function ConfigTable({ config, caption }: { config: Record<string, string>; caption: string }) {
  const entries = Object.entries(config);
  if (entries.length === 0) return <Empty>None.</Empty>;
  return (
    <table className="list compact">
      <caption className="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Key</th>
          <th scope="col">Value</th>
        </tr>
      </thead>
      <tbody>
        {entries.map(([k, v]) => (
          <tr key={k}>
            <th scope="row">
              <code>{k}</code>
            </th>
            <td className="wrap">
              <code>{v}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A preset's window in one line, e.g. `size 1d, shift_by 1h, truncate_to d`. */
export function describeWindow(window: unknown): string {
  if (!window || typeof window !== 'object') return String(window);
  return Object.entries(window as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(', ');
}
