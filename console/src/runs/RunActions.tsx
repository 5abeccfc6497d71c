/**
 * What a writer may do with a run: cancel it while it goes, re-run its failed nodes once it is
 * over, start a replay of its job over a range of dates. Each asks for confirmation first.
 */
import { useState } from 'react';
import { api, apiError, unwrap } from '../api/client';
import { ConfirmAction } from './ConfirmAction';
import type { Run } from './types';

const RETRYABLE = ['failed', 'upstream_failed', 'cancelled'];

interface ReplayAnswer {
  id: number;
  items: unknown[];
  jobs: unknown[];
}

/** Resolves to the server's refusal as one line, or null. */
async function attempt<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<string | null> {
  try {
    unwrap(await call);
    return null;
  } catch (e) {
    return apiError(e);
  }
}

export function RunActions({ run, onChanged }: { run: Run; onChanged: (run?: Run) => void }) {
  const path = { project: run.project, job: run.job, id: String(run.id) };
  const going = run.status === 'queued' || run.status === 'running';
  const retryable = run.over ? run.nodes.filter((n) => RETRYABLE.includes(n.status)) : [];
  return (
    <div className="run-actions">
      {going && (
        <ConfirmAction
          label="Cancel run"
          danger
          question={`Cancel run ${run.id}? Nodes not started are cancelled; running ones are stopped.`}
          confirmLabel="Cancel the run"
          run={async () => {
            const e = await attempt(
              api.POST('/api/v1beta1/project/{project}/job/{job}/run/{id}/cancel', { params: { path } }),
            );
            if (!e) onChanged();
            return e;
          }}
        />
      )}
      {retryable.length > 0 && (
        <ConfirmAction
          label="Re-run failed nodes"
          question={
            <>
              Re-run {retryable.map((n) => n.name).join(', ')} and what did not succeed after them? Succeeded
              nodes are kept.
            </>
          }
          confirmLabel="Re-run"
          run={async () => {
            const e = await attempt(
              api.POST('/api/v1beta1/project/{project}/job/{job}/run/{id}/retry', {
                params: { path },
                body: {},
              }),
            );
            if (!e) onChanged();
            return e;
          }}
        />
      )}
      <ReplayAction project={run.project} job={run.job} around={run.scheduled_at} />
    </div>
  );
}

export function ReplayAction({ project, job, around }: { project: string; job: string; around?: string }) {
  const day = (around ?? new Date().toISOString()).slice(0, 10);
  const [from, setFrom] = useState(day);
  const [to, setTo] = useState(day);
  const [downstream, setDownstream] = useState(false);
  const [created, setCreated] = useState<{ id: number; text: string } | null>(null);
  return (
    <>
      <ConfirmAction
        label="Replay…"
        question={`Run ${job} again for every scheduled time from ${from} to ${to} (both days included, UTC)?`}
        confirmLabel="Start replay"
        run={async () => {
          try {
            const r = await api.POST('/api/v1beta1/project/{project}/replay', {
              params: { path: { project } },
              body: { job, from, to, downstream },
            });
            if (!r.response.ok) return apiError(r.error ?? `the server answered ${r.response.status}`);
            // The replay route declares no answer schema yet: read the fields shown defensively.
            const replay = (r as { data?: { replay?: ReplayAnswer } }).data?.replay;
            if (!replay) return `the server answered ${r.response.status} without a replay`;
            setCreated({
              id: replay.id,
              text: `Replay ${replay.id} started: ${replay.items.length} run${replay.items.length === 1 ? '' : 's'} of ${replay.jobs.length} job${replay.jobs.length === 1 ? '' : 's'}.`,
            });
            return null;
          } catch (e) {
            return apiError(e);
          }
        }}
      >
        <div className="replay-form">
          <label>
            From <input type="date" value={from} onChange={(e) => setFrom(e.target.value)} required />
          </label>
          <label>
            To <input type="date" value={to} onChange={(e) => setTo(e.target.value)} required />
          </label>
          <label>
            <input type="checkbox" checked={downstream} onChange={(e) => setDownstream(e.target.checked)} />{' '}
            Also the jobs downstream of it
          </label>
        </div>
      </ConfirmAction>
      {created && (
        <p className="alert" role="status">
          {created.text} Follow it with <code>optimus replay status {created.id}</code> or on the Runs page.
        </p>
      )}
    </>
  );
}
