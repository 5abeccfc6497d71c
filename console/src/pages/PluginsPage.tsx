/** The plugins this server serves: what each is, which dialect it was written in, its version. */
import { useId, useState } from 'react';
import { Link } from 'wouter';
import { api, unwrap } from '../api/client';
import type { ApiData } from '../api/types';
import { PageHeader } from '../ui/Layout';
import { href } from '../ui/links';
import { Empty, ErrorState, Loading } from '../ui/states';
import { useApi } from '../ui/use-api';

export type PluginSummary = ApiData<'/api/v1beta1/plugins', 'get'>['plugins'][number];

export default function PluginsPage() {
  const plugins = useApi(
    async (signal) => unwrap(await api.GET('/api/v1beta1/plugins', { signal })).plugins,
    [],
  );
  const [q, setQ] = useState('');
  const searchId = useId();
  const needle = q.trim().toLowerCase();
  const shown = (plugins.data ?? []).filter(
    (p) => !needle || p.name.toLowerCase().includes(needle) || p.description.toLowerCase().includes(needle),
  );
  return (
    <>
      <PageHeader
        title="Plugins"
        subtitle="The plugins jobs may use as their task or as hooks, as installed on this server."
      />
      <form className="toolbar" aria-label="Filter plugins" onSubmit={(e) => e.preventDefault()}>
        <div className="field grow">
          <label htmlFor={searchId}>Search</label>
          <input
            id={searchId}
            type="search"
            placeholder="Plugin name or description"
            value={q}
            onChange={(e) => setQ(e.target.value)}
            autoComplete="off"
          />
        </div>
      </form>
      {plugins.status === 'loading' && !plugins.data && <Loading what="plugins" />}
      {plugins.status === 'error' && (
        <ErrorState message={`Cannot list the plugins: ${plugins.error}`} onRetry={plugins.reload} />
      )}
      {plugins.data &&
        (shown.length === 0 ? (
          <Empty>{needle ? 'No plugin matches this search.' : 'This server serves no plugins.'}</Empty>
        ) : (
          <table className="list">
            <caption className="visually-hidden">Installed plugins</caption>
            <thead>
              <tr>
                <th scope="col">Plugin</th>
                <th scope="col">Description</th>
                <th scope="col">Version</th>
                <th scope="col">Dialect</th>
                <th scope="col">Use</th>
                <th scope="col">Mods</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((p) => (
                <tr key={p.name}>
                  <th scope="row">
                    <Link href={href.plugin(p.name)}>{p.name}</Link>
                  </th>
                  <td className="wrap">{p.description || <span className="muted">—</span>}</td>
                  <td>
                    <code>{p.version}</code>
                  </td>
                  <td>{p.dialect}</td>
                  <td>{pluginUse(p)}</td>
                  <td>{p.mods.length ? p.mods.join(', ') : <span className="muted">—</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ))}
    </>
  );
}

/** How a job may use the plugin: only as a task, or as a task or a hook (with its default stage). */
export function pluginUse(p: Pick<PluginSummary, 'task_only' | 'stage_hint'>): string {
  if (p.task_only) return 'task only';
  return p.stage_hint ? `task or ${p.stage_hint} hook` : 'task or hook';
}
