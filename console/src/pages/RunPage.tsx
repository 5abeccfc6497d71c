/**
 * One run: its graph coloured by each node's live state, the nodes with their attempts, the
 * selected node's log, all followed over the run's event stream while it goes, then final.
 * Writers get cancel, re-run failed nodes and replay.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { followApiEvents } from '../api/events';
import { RunGraph } from '../graph/RunGraph';
import { LogViewer } from '../runs/LogViewer';
import { runsApiPath } from '../runs/links';
import { NodeTable } from '../runs/NodeTable';
import { RunActions } from '../runs/RunActions';
import type { LogLine, Run, RunNode } from '../runs/types';
import '../runs/runs.css';
import { useSession } from '../session';
import { formatDuration, formatTime, timeProps } from '../ui/format';
import { PageHeader } from '../ui/Layout';
import { href } from '../ui/links';
import { ErrorState, Loading, StatusBadge } from '../ui/states';

/** Lines kept in memory per run at most; the oldest go first. */
const LINES_KEPT_MAX = 50_000;

/** The node to show first: a failed one, else one running, else the task. */
function firstNode(nodes: readonly RunNode[]): string | null {
  return (
    nodes.find((n) => n.status === 'failed')?.name ??
    nodes.find((n) => n.status === 'running')?.name ??
    nodes.find((n) => n.stage === 'task')?.name ??
    nodes[0]?.name ??
    null
  );
}

export default function RunPage({ project, job, id }: { project: string; job: string; id: number }) {
  const { canWrite } = useSession();
  const [run, setRun] = useState<Run | null>(null);
  const [ended, setEnded] = useState(false);
  const [problem, setProblem] = useState<{ message: string; retrying: boolean } | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [round, setRound] = useState(0);
  const [linesVersion, setLinesVersion] = useState(0);
  const lines = useRef<LogLine[]>([]);
  const lastLineId = useRef(0);
  const chosen = useRef(false);

  // A new run (another id in the URL) starts from nothing.
  // biome-ignore lint/correctness/useExhaustiveDependencies: reset when the run shown changes
  useEffect(() => {
    setRun(null);
    setSelected(null);
    chosen.current = false;
    lines.current = [];
    lastLineId.current = 0;
    setLinesVersion((v) => v + 1);
  }, [project, job, id]);

  // `round` follows the run anew after an action made it go again (its stream had ended).
  // biome-ignore lint/correctness/useExhaustiveDependencies: round is a trigger, not a value read
  useEffect(() => {
    const ctrl = new AbortController();
    setEnded(false);
    setProblem(null);
    void followApiEvents({
      path: `${runsApiPath(project, job)}/${id}/events`,
      signal: ctrl.signal,
      ...(lastLineId.current > 0 ? { after: String(lastLineId.current) } : {}),
      onOpen: () => setProblem(null),
      onProblem: (message, retrying) => setProblem({ message, retrying }),
      onEvent: (e) => {
        if (e.event === 'run') {
          const next = (JSON.parse(e.data) as { run: Run }).run;
          setRun(next);
          if (!chosen.current) {
            chosen.current = true;
            setSelected(firstNode(next.nodes));
          }
        } else if (e.event === 'log') {
          const batch = (JSON.parse(e.data) as { lines: LogLine[] }).lines.filter(
            (l) => l.id > lastLineId.current,
          );
          if (!batch.length) return;
          lastLineId.current = batch[batch.length - 1]!.id;
          const all = lines.current.concat(batch);
          lines.current = all.length > LINES_KEPT_MAX ? all.slice(all.length - LINES_KEPT_MAX) : all;
          setLinesVersion((v) => v + 1);
        } else if (e.event === 'end') {
          setEnded(true);
        }
      },
    });
    return () => ctrl.abort();
  }, [project, job, id, round]);

  const select = useCallback((name: string) => {
    chosen.current = true;
    setSelected(name);
  }, []);
  // biome-ignore lint/correctness/useExhaustiveDependencies: linesVersion says when lines.current changed
  const nodeLines = useMemo(
    () => (selected ? lines.current.filter((l) => l.node === selected) : []),
    [selected, linesVersion],
  );
  const statuses = useMemo(() => new Map(run?.nodes.map((n) => [n.name, n.status]) ?? []), [run]);
  const graphNodes = useMemo(() => run?.nodes ?? [], [run?.nodes]);
  // A run holds its nodes' depends_on, not the job's edge origins: its graph shows the order only.
  const graphEdges = useMemo(
    () =>
      graphNodes.flatMap((n) =>
        n.depends_on.map((from) => ({ from, to: n.name, origin: 'default', rule: null, detail: '' })),
      ),
    [graphNodes],
  );

  if (!run) {
    if (problem && !problem.retrying) return <ErrorState message={problem.message} />;
    return (
      <>
        <Loading what={`run ${id}`} />
        {problem && <p className="muted">{problem.message}</p>}
      </>
    );
  }
  const live = !ended;
  const selectedNode = run.nodes.find((n) => n.name === selected);
  return (
    <div className="run-page h4-page">
      <PageHeader
        title={
          <>
            Run {run.id} of {run.job} <StatusBadge status={run.status} />
          </>
        }
        crumbs={[
          { href: '/runs', label: 'Runs' },
          { href: href.job(run.project, run.namespace, run.job), label: run.job },
        ]}
        subtitle={
          <>
            {run.project} / {run.namespace} · {run.trigger} · scheduled{' '}
            <time {...timeProps(run.scheduled_at)}>{formatTime(run.scheduled_at)}</time> · started{' '}
            <time {...timeProps(run.started_at)}>{formatTime(run.started_at)}</time> · duration{' '}
            {formatDuration(run.duration_ms)}
            {live ? ' · live' : ''}
          </>
        }
      />
      {run.note && <p className="run-note">{run.note}</p>}
      {problem && (
        <p className={problem.retrying ? 'alert' : 'alert alert-error'} role="status">
          {problem.message}
        </p>
      )}
      {canWrite && (
        <RunActions
          run={run}
          onChanged={() => {
            // The stream ended with the run; a retry makes it go again, so follow it anew.
            setRound((r) => r + 1);
          }}
        />
      )}
      <section aria-labelledby="graph-title">
        <h2 id="graph-title">Nodes</h2>
        <RunGraph
          nodes={graphNodes}
          edges={graphEdges}
          statuses={statuses}
          selected={selected}
          onSelect={select}
          label={`Run graph of run ${run.id}, nodes coloured by state`}
          originLabels={false}
        />
        <NodeTable nodes={run.nodes} selected={selected} onSelect={select} />
      </section>
      <LogViewer node={selected} lines={nodeLines} live={live} status={selectedNode?.status ?? ''} />
    </div>
  );
}
