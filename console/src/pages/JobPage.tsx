/**
 * A deployed job: its run graph (every edge marked by where it came from, dropped rules with the
 * reason), its lineage, a grid of its recent runs, a preview of a node's run input, its spec after
 * inheritance and its assets. Writers may trigger a run.
 */
import { useState } from 'react';
import { api, apiError, unwrap } from '../api/client';
import { LineageGraph } from '../graph/LineageGraph';
import { EdgeLegend, edgeLabel, RunGraph } from '../graph/RunGraph';
import { runHref } from '../runs/links';
import { ReplayAction } from '../runs/RunActions';
import { RunInputPreview } from '../runs/RunInputPreview';
import { RunsGrid } from '../runs/RunsGrid';
import { AssetsView, SpecView } from '../runs/SpecView';
import type { JobDetail, Run } from '../runs/types';
import '../runs/runs.css';
import { useSession } from '../session';
import { formatTime, timeProps } from '../ui/format';
import { PageHeader } from '../ui/Layout';
import { Empty, ErrorState, Loading } from '../ui/states';
import { useApi } from '../ui/use-api';

const GRID_RUNS = 25;

function field(v: unknown, k: string): unknown {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
    ? (v as Record<string, unknown>)[k]
    : undefined;
}

export default function JobPage({
  project,
  namespace,
  job,
}: {
  project: string;
  namespace: string;
  job: string;
}) {
  const { canWrite } = useSession();
  const detail = useApi(
    async (signal) =>
      unwrap(
        await api.GET('/api/v1beta1/project/{project}/namespace/{namespace}/job/{job}', {
          signal,
          params: { path: { project, namespace, job } },
        }),
      ).job as JobDetail,
    [project, namespace, job],
  );
  if (detail.status === 'error' && !detail.data)
    return <ErrorState message={detail.error} onRetry={detail.reload} />;
  if (!detail.data) return <Loading what={`job ${job}`} />;
  const j = detail.data;
  const graph = j.run_graph;
  const schedule = field(j.spec, 'schedule');
  const owner = field(j.spec, 'owner');
  const description = field(j.spec, 'description');
  const stageOf = new Map(graph.nodes.map((n) => [n.name, n.stage]));
  return (
    <div className="job-page h4-page">
      <PageHeader
        title={j.name}
        crumbs={[{ href: '/jobs', label: 'Jobs' }]}
        subtitle={
          <>
            {project} / {namespace}
            {typeof owner === 'string' && ` · owner ${owner}`}
            {typeof field(schedule, 'interval') === 'string' && ` · schedule ${field(schedule, 'interval')}`}{' '}
            · updated <time {...timeProps(j.updated_at)}>{formatTime(j.updated_at)}</time>
            {typeof description === 'string' && (
              <>
                <br />
                {description}
              </>
            )}
          </>
        }
        actions={canWrite ? <TriggerRun project={project} job={job} /> : undefined}
      />

      <section aria-labelledby="run-graph-title">
        <h2 id="run-graph-title">Run graph</h2>
        {graph.nodes.length === 0 ? (
          <Empty>
            This job has no run graph on the server (its plugins were missing when it was deployed).
          </Empty>
        ) : (
          <>
            <RunGraph nodes={graph.nodes} edges={graph.edges} label={`Run graph of ${j.name}`} />
            <EdgeLegend origins={graph.edges.map((e) => e.origin)} />
            {!graph.origins_recorded && (
              <p className="alert">
                This job was deployed before edge origins were recorded: re-deploy it to see where each edge
                comes from and which rules were dropped.
              </p>
            )}
            <details className="edge-table">
              <summary>Edges as a table ({graph.edges.length})</summary>
              <table className="list">
                <thead>
                  <tr>
                    <th scope="col">From</th>
                    <th scope="col">To</th>
                    <th scope="col">Origin</th>
                    <th scope="col">Why</th>
                  </tr>
                </thead>
                <tbody>
                  {graph.edges.map((e) => (
                    <tr key={`${e.from}->${e.to}`} data-edge={`${e.from}->${e.to}`} data-origin={e.origin}>
                      <td>{e.from}</td>
                      <td>{e.to}</td>
                      <td>{edgeLabel(e, stageOf.get(e.to) === 'fail')}</td>
                      <td>{e.detail}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </details>
            <h3>Dropped rules</h3>
            {graph.dropped.length === 0 ? (
              <p className="muted">
                {graph.origins_recorded
                  ? 'No project rule or plugin hint was dropped for this job.'
                  : 'Not recorded.'}
              </p>
            ) : (
              <ul className="dropped-rules">
                {graph.dropped.map((d) => (
                  <li key={`${d.rule}-${d.from}-${d.to}-${d.reason}`}>
                    <strong>
                      {d.rule !== null ? `Project rule ${d.rule}` : 'Plugin hint'}
                      {d.from !== null && d.to !== null ? ` (${d.to} after ${d.from})` : ''}
                    </strong>
                    : {d.reason}
                  </li>
                ))}
              </ul>
            )}
          </>
        )}
      </section>

      <section aria-labelledby="lineage-title">
        <h2 id="lineage-title">Lineage</h2>
        {j.lineage_warnings.length > 0 && (
          <ul className="alert">
            {j.lineage_warnings.map((w) => (
              <li key={w}>{w}</li>
            ))}
          </ul>
        )}
        {j.destination === null &&
        j.sources.length === 0 &&
        j.upstreams.length === 0 &&
        j.downstreams.length === 0 ? (
          <Empty>
            No lineage is known for this job: it reads and writes nothing the server could infer, and no job
            depends on it.
          </Empty>
        ) : (
          <LineageGraph
            lineage={{
              self: { project, namespace, job },
              destination: j.destination,
              sources: j.sources,
              upstreams: j.upstreams,
              downstreams: j.downstreams,
            }}
          />
        )}
      </section>

      <section aria-labelledby="runs-title">
        <h2 id="runs-title">Recent runs</h2>
        <JobRuns project={project} job={job} nodeOrder={graph.nodes.map((n) => n.name)} />
        {canWrite && <ReplayAction project={project} job={job} />}
      </section>

      <section aria-labelledby="run-input-title">
        <h2 id="run-input-title">Run input preview</h2>
        {!canWrite ? (
          <p className="muted">
            This token is read-only, and the server takes a preview as a POST request: sign in with another
            token to preview what a node receives.
          </p>
        ) : graph.nodes.length ? (
          <RunInputPreview project={project} job={job} nodes={graph.nodes} />
        ) : (
          <p className="muted">No nodes to preview.</p>
        )}
      </section>

      <section aria-labelledby="spec-title">
        <h2 id="spec-title">Spec (after inheritance)</h2>
        <SpecView spec={j.spec} />
      </section>

      <section aria-labelledby="assets-title">
        <h2 id="assets-title">Assets</h2>
        <AssetsView assets={j.assets} />
      </section>
    </div>
  );
}

function JobRuns({ project, job, nodeOrder }: { project: string; job: string; nodeOrder: string[] }) {
  const runs = useApi(
    async (signal) =>
      unwrap(
        await api.GET('/api/v1beta1/project/{project}/job/{job}/run', {
          signal,
          params: { path: { project, job }, query: { limit: GRID_RUNS } },
        }),
      ).runs as Run[],
    [project, job],
  );
  if (runs.status === 'error') return <ErrorState message={runs.error} onRetry={runs.reload} />;
  if (!runs.data) return <Loading what="runs" />;
  if (!runs.data.length) return <Empty>No runs yet.</Empty>;
  return (
    <>
      <RunsGrid runs={runs.data} nodeOrder={nodeOrder} />
      <button type="button" className="button" onClick={runs.reload}>
        Refresh
      </button>
    </>
  );
}

function TriggerRun({ project, job }: { project: string; job: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <div className="action">
      <button
        type="button"
        className="button primary"
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          setError(null);
          try {
            const { run } = unwrap(
              await api.POST('/api/v1beta1/project/{project}/job/{job}/run', {
                params: { path: { project, job } },
                body: {},
              }),
            );
            window.location.hash = runHref(project, job, run.id).slice(1);
          } catch (e) {
            setError(apiError(e));
          } finally {
            setBusy(false);
          }
        }}
      >
        {busy ? 'Starting…' : 'Trigger run'}
      </button>
      {error && (
        <p className="alert alert-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
