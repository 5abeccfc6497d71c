/**
 * One colour per run and node state, used by every list, grid and graph. Each `fg` on its `bg`
 * meets WCAG AA for normal text (contrast ≥ 4.5:1; test/console/shell.test.ts checks it), and
 * every state also has a label, so colour is never the only sign.
 */
export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export type NodeStatus =
  | 'pending'
  | 'queued'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'upstream_failed'
  | 'skipped'
  | 'cancelled';

export interface StatusColor {
  bg: string;
  fg: string;
  label: string;
}

export const STATUS_COLOR: Record<RunStatus | NodeStatus | 'never', StatusColor> = {
  pending: { bg: '#e5e7eb', fg: '#374151', label: 'Pending' },
  queued: { bg: '#57534e', fg: '#ffffff', label: 'Queued' },
  running: { bg: '#1d4ed8', fg: '#ffffff', label: 'Running' },
  succeeded: { bg: '#15803d', fg: '#ffffff', label: 'Succeeded' },
  failed: { bg: '#b91c1c', fg: '#ffffff', label: 'Failed' },
  upstream_failed: { bg: '#c2410c', fg: '#ffffff', label: 'Upstream failed' },
  skipped: { bg: '#f5d0fe', fg: '#701a75', label: 'Skipped' },
  cancelled: { bg: '#fde68a', fg: '#78350f', label: 'Cancelled' },
  never: { bg: '#f3f4f6', fg: '#4b5563', label: 'Never run' },
};

/** The colour of a state, or a neutral one for a state this console does not know yet. */
export function statusColor(status: string): StatusColor {
  return (
    (STATUS_COLOR as Record<string, StatusColor | undefined>)[status] ?? {
      bg: '#e5e7eb',
      fg: '#1f2937',
      label: status,
    }
  );
}
