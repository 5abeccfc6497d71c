/**
 * One pass over the running replays, for the runner's loop: creates the runs that became ready
 * (their prerequisites' runs succeeded) and ends replays that are over. Safe to call any number of
 * times and from two servers at once: each replay is decided under its row lock, and a replay's run
 * is unique per (replay, job, scheduled time), so a run is never created twice.
 */
import type { Logger } from 'pino';
import { isOptimusError } from '../core/errors.js';
import { advanceReplay } from '../services/replay.js';
import type { RunDefaults } from '../services/runs.js';
import { DEFAULT_NODE_TIMEOUT_MS } from '../spec/server-config.js';
import type { ReplayStore } from '../store/replay-store.js';
import type { RunStore } from '../store/run-store.js';

export interface AdvanceReplaysOptions {
  store: ReplayStore & Pick<RunStore, 'findJob'>;
  now: Date;
  logger: Pick<Logger, 'warn' | 'error'>;
  /** What a replay's runs get when their job says nothing (the server config's `scheduler`). */
  defaults?: RunDefaults;
}

/** Returns how many runs the pass created (so a caller can look for runs to start at once). */
export async function advanceReplays(opts: AdvanceReplaysOptions): Promise<number> {
  const { store, now, logger } = opts;
  const defaults = opts.defaults ?? { nodeTimeoutMs: DEFAULT_NODE_TIMEOUT_MS };
  let created = 0;
  for (const id of await store.activeReplays()) {
    try {
      const pass = await advanceReplay({ store }, id, defaults, now);
      created += pass.created;
      const after = pass.replay;
      if (pass.ended && after && after.status !== 'succeeded') {
        logger.warn(
          { replay: id, status: after.status },
          `replay ${id} ${after.status}: ${after.note ?? ''}`,
        );
      }
    } catch (e) {
      // One replay that cannot advance (its store rows, a job that cannot be read) must not hold up the others.
      logger.error(
        { err: isOptimusError(e) ? { code: e.code, message: e.message } : e, replay: id },
        `replays: cannot advance replay ${id}`,
      );
    }
  }
  return created;
}
