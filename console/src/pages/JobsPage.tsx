/**
 * Every deployed job, across projects: a search box, filters, and a virtualised table that loads
 * the rows it shows page by page from the server (`GET /api/v1beta1/jobs`), so 10,000 jobs cost
 * no more than 100 on the first load.
 */
import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useId, useMemo, useRef, useState } from 'react';
import { Link } from 'wouter';
import { api, unwrap } from '../api/client';
import type { ApiData, ApiQuery } from '../api/types';
import { formatAgo, timeProps } from '../ui/format';
import { PageHeader } from '../ui/Layout';
import { href } from '../ui/links';
import { Empty, ErrorState, StatusBadge } from '../ui/states';
import { STATUS_COLOR } from '../ui/status';
import { useApi } from '../ui/use-api';

type JobRow = ApiData<'/api/v1beta1/jobs', 'get'>['jobs'][number];
type JobsQuery = ApiQuery<'/api/v1beta1/jobs', 'get'>;

const PAGE = 200;
const ROW_HEIGHT = 37;
const LAST_STATUSES = ['running', 'queued', 'succeeded', 'failed', 'cancelled', 'never'] as const;

interface Filters {
  q: string;
  project: string;
  namespace: string;
  plugin: string;
  last_status: string;
}

const NO_FILTERS: Filters = { q: '', project: '', namespace: '', plugin: '', last_status: '' };
/** Kept while the tab lives: coming back to the list finds it as it was left. */
let remembered: Filters = NO_FILTERS;

/** Opens the list narrowed to these filters (a link from elsewhere, e.g. a namespace). */
export function showJobsOf(filters: Partial<Filters>): void {
  remembered = { ...NO_FILTERS, ...filters };
}

export default function JobsPage() {
  const [filters, setFilters] = useState<Filters>(remembered);
  const [search, setSearch] = useState(filters.q);
  useEffect(() => {
    remembered = filters;
  }, [filters]);
  // The search box asks the server once the user pauses typing.
  useEffect(() => {
    if (search === filters.q) return;
    const t = setTimeout(() => setFilters((f) => ({ ...f, q: search })), 200);
    return () => clearTimeout(t);
  }, [search, filters.q]);
  const set = (key: keyof Filters) => (value: string) =>
    setFilters((f) => ({ ...f, [key]: value, ...(key === 'project' ? { namespace: '' } : {}) }));
  const filtered = Object.entries(filters).some(([, v]) => v !== '');
  const searchId = useId();

  return (
    <>
      <PageHeader
        title="Jobs"
        subtitle="Every job deployed to this server, across projects and namespaces."
      />
      <form className="toolbar" aria-label="Filter jobs" onSubmit={(e) => e.preventDefault()}>
        <div className="field grow">
          <label htmlFor={searchId}>Search</label>
          <input
            id={searchId}
            type="search"
            placeholder="Job name or owner"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            autoComplete="off"
          />
        </div>
        <FilterSelects filters={filters} set={set} />
        {filtered && (
          <button
            type="button"
            className="button"
            onClick={() => {
              setSearch('');
              setFilters(NO_FILTERS);
            }}
          >
            Clear filters
          </button>
        )}
      </form>
      <JobTable filters={filters} />
    </>
  );
}

function FilterSelects({
  filters,
  set,
}: {
  filters: Filters;
  set: (k: keyof Filters) => (v: string) => void;
}) {
  const projects = useApi(
    async (signal) => unwrap(await api.GET('/api/v1beta1/project', { signal })).projects,
    [],
  );
  const namespaces = useApi(
    async (signal) =>
      filters.project
        ? unwrap(
            await api.GET('/api/v1beta1/project/{project}/namespace', {
              params: { path: { project: filters.project } },
              signal,
            }),
          ).namespaces
        : [],
    [filters.project],
  );
  const plugins = useApi(
    async (signal) => unwrap(await api.GET('/api/v1beta1/plugins', { signal })).plugins,
    [],
  );
  return (
    <>
      <Select
        label="Project"
        value={filters.project}
        onChange={set('project')}
        options={(projects.data ?? []).map((p) => p.name)}
      />
      <Select
        label="Namespace"
        value={filters.namespace}
        onChange={set('namespace')}
        options={(namespaces.data ?? []).map((n) => n.name)}
        disabled={!filters.project}
        title={filters.project ? undefined : 'Choose a project first'}
      />
      <Select
        label="Plugin"
        value={filters.plugin}
        onChange={set('plugin')}
        options={(plugins.data ?? []).map((p) => p.name)}
      />
      <Select
        label="Last run"
        value={filters.last_status}
        onChange={set('last_status')}
        options={[...LAST_STATUSES]}
        labels={Object.fromEntries(LAST_STATUSES.map((s) => [s, STATUS_COLOR[s].label]))}
      />
    </>
  );
}

function Select(props: {
  label: string;
  value: string;
  onChange(v: string): void;
  options: string[];
  labels?: Record<string, string>;
  disabled?: boolean;
  title?: string | undefined;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      <select
        id={id}
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
        disabled={props.disabled}
        title={props.title}
      >
        <option value="">All</option>
        {props.value && !props.options.includes(props.value) && (
          <option value={props.value}>{props.value}</option>
        )}
        {props.options.map((o) => (
          <option key={o} value={o}>
            {props.labels?.[o] ?? o}
          </option>
        ))}
      </select>
    </div>
  );
}

interface Pages {
  /** What the pages were loaded for: a filter change starts afresh. */
  key: string;
  total: number | null;
  rows: Map<number, JobRow[]>;
  error: string | null;
}

function JobTable({ filters }: { filters: Filters }) {
  const query = useMemo<JobsQuery>(() => {
    const q: Record<string, string> = {};
    for (const [k, v] of Object.entries(filters)) if (v.trim()) q[k] = v.trim();
    return q as JobsQuery;
  }, [filters]);
  const key = JSON.stringify(query);
  const [pages, setPages] = useState<Pages>({ key, total: null, rows: new Map(), error: null });
  const inFlight = useRef(new Set<string>());
  const current =
    pages.key === key ? pages : { key, total: null, rows: new Map<number, JobRow[]>(), error: null };

  const loadPage = useCallback(
    async (page: number) => {
      const id = `${key}#${page}`;
      if (inFlight.current.has(id)) return;
      inFlight.current.add(id);
      try {
        const data = unwrap(
          await api.GET('/api/v1beta1/jobs', {
            params: { query: { ...query, limit: PAGE, offset: page * PAGE } },
          }),
        );
        setPages((p) => {
          const base =
            p.key === key ? p : { key, total: null, rows: new Map<number, JobRow[]>(), error: null };
          const rows = new Map(base.rows);
          rows.set(page, data.jobs);
          return { key, total: data.total, rows, error: null };
        });
      } catch (e) {
        setPages((p) => ({
          ...(p.key === key ? p : { key, total: null, rows: new Map() }),
          error: String(e instanceof Error ? e.message : e),
        }));
      } finally {
        inFlight.current.delete(id);
      }
    },
    [key, query],
  );

  useEffect(() => {
    void loadPage(0);
  }, [loadPage]);

  const scrollRef = useRef<HTMLDivElement>(null);
  const count = current.total ?? 0;
  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 20,
  });
  const items = virtualizer.getVirtualItems();
  const first = items[0]?.index ?? 0;
  const last = items[items.length - 1]?.index ?? 0;
  useEffect(() => {
    if (!count) return;
    for (let page = Math.floor(first / PAGE); page <= Math.floor(last / PAGE); page++) {
      if (!current.rows.has(page)) void loadPage(page);
    }
  }, [first, last, count, current.rows, loadPage]);

  if (current.error && current.total === null)
    return <ErrorState message={`Cannot list the jobs: ${current.error}`} onRetry={() => void loadPage(0)} />;
  const rowAt = (i: number) => current.rows.get(Math.floor(i / PAGE))?.[i % PAGE];
  const padTop = items[0]?.start ?? 0;
  const padBottom = items.length ? virtualizer.getTotalSize() - items[items.length - 1]!.end : 0;
  const anyFilter = Object.keys(query).length > 0;

  return (
    <section aria-labelledby="jobs-count">
      <p id="jobs-count" className="count" aria-live="polite">
        {current.total === null
          ? 'Loading jobs…'
          : `${current.total.toLocaleString()} ${current.total === 1 ? 'job' : 'jobs'}${anyFilter ? ' match' : ''}`}
      </p>
      {current.error && <ErrorState message={current.error} />}
      {current.total === 0 ? (
        <Empty>
          {anyFilter
            ? 'No job matches these filters.'
            : 'No job is deployed yet: deploy a namespace with `optimus job deploy`.'}
        </Empty>
      ) : (
        <div className="table-scroll" ref={scrollRef}>
          <table className="list jobs" aria-rowcount={count + 1} aria-describedby="jobs-count">
            <thead>
              <tr aria-rowindex={1}>
                <th scope="col">Job</th>
                <th scope="col">Project / namespace</th>
                <th scope="col">Task</th>
                <th scope="col">Hooks</th>
                <th scope="col">Schedule</th>
                <th scope="col">Owner</th>
                <th scope="col">Last run</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {padTop > 0 && (
                // biome-ignore lint/a11y/noAriaHiddenOnFocusable: an empty spacer row for the rows scrolled out of view
                <tr aria-hidden="true" className="spacer">
                  <td colSpan={8} style={{ height: padTop }} />
                </tr>
              )}
              {items.map((item) => {
                const j = rowAt(item.index);
                return j ? (
                  <JobLine key={item.key} row={j} index={item.index} />
                ) : (
                  <tr key={item.key} aria-rowindex={item.index + 2} className="placeholder">
                    <td colSpan={8}>Loading…</td>
                  </tr>
                );
              })}
              {padBottom > 0 && (
                // biome-ignore lint/a11y/noAriaHiddenOnFocusable: an empty spacer row for the rows scrolled out of view
                <tr aria-hidden="true" className="spacer">
                  <td colSpan={8} style={{ height: padBottom }} />
                </tr>
              )}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function JobLine({ row: j, index }: { row: JobRow; index: number }) {
  return (
    <tr aria-rowindex={index + 2}>
      <th scope="row">
        <Link href={href.job(j.project, j.namespace, j.name)}>{j.name}</Link>
      </th>
      <td>
        {j.project} <span className="muted">/</span> {j.namespace}
      </td>
      <td>
        <Link href={href.plugin(j.task)} className="plain">
          {j.task}
        </Link>
      </td>
      <td className="hooks" title={j.hooks.join(', ') || undefined}>
        {j.hooks.length ? hookSummary(j.hooks) : <span className="muted">—</span>}
      </td>
      <td>{j.schedule ? <code>{j.schedule}</code> : <span className="muted">none</span>}</td>
      <td className="owner">{j.owner ?? <span className="muted">—</span>}</td>
      <td>
        {j.last_run ? (
          <Link href={href.run(j.project, j.name, j.last_run.id)} className="plain run-link">
            <StatusBadge status={j.last_run.status} />{' '}
            <time {...timeProps(j.last_run.scheduled_at)}>{formatAgo(j.last_run.scheduled_at)}</time>
          </Link>
        ) : (
          <StatusBadge status="never" />
        )}
      </td>
      <td>
        <time {...timeProps(j.updated_at)}>{formatAgo(j.updated_at)}</time>
      </td>
    </tr>
  );
}

/** The hooks' plugins in run order, each once: `data-audit ×3, publish-event`. */
export function hookSummary(hooks: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const h of hooks) counts.set(h, (counts.get(h) ?? 0) + 1);
  return [...counts].map(([h, n]) => (n > 1 ? `${h} ×${n}` : h)).join(', ');
}
