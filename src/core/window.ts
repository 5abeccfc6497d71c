/**
 * Window fields per job `version` (1, 2 and 3, as upstream Optimus defines them). This module checks
 * the fields; computing window start and end belongs to the scheduler.
 */
import type { WindowSpec } from './job.js';

export interface WindowIssue {
  field?: keyof WindowSpec;
  severity: 'error' | 'warning';
  message: string;
}

const GO_DURATION = '(?:(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:ns|us|µs|μs|ms|s|m|h))+';
/**
 * v1/v2: months (`nM`), a Go duration, or months then a Go duration, with an optional sign, e.g.
 * `1M24h`, `-24h`, `-0`. A sign alone is no duration (Go's time.ParseDuration refuses it too).
 */
const V12_DURATION = new RegExp(`^[+-]?(?:\\d+M(?:${GO_DURATION})?|${GO_DURATION}|0)$`);
const V3_DURATION = /^-?\d+[hdwMy]$/;

export function normalisePresetName(name: string): string {
  return name.trim().replace(/^@/, '').toLowerCase();
}

/** `presets`: the project's preset names; `null` when they are not known here (skip that check). */
export function checkWindow(
  version: number,
  w: WindowSpec | undefined,
  presets: ReadonlySet<string> | null | undefined,
): WindowIssue[] {
  const issues: WindowIssue[] = [];
  if (!w) return issues;
  if (w.preset !== undefined && presets !== null) {
    const name = normalisePresetName(w.preset);
    if (!presets)
      issues.push({
        field: 'preset',
        severity: 'error',
        message: `window preset "${w.preset}" is used but the project defines no presets (project.preset_path)`,
      });
    else if (!presets.has(name))
      issues.push({
        field: 'preset',
        severity: 'error',
        message: `window preset "${w.preset}" is not defined; known presets: ${[...presets].sort().join(', ') || 'none'}`,
      });
  }
  if (version === 1 || version === 2) {
    for (const field of ['size', 'offset'] as const) {
      const v = w[field];
      if (v === undefined || v === '') continue;
      if (!V12_DURATION.test(v))
        issues.push({
          field,
          severity: 'error',
          message: `window ${field} "${v}" is not a duration such as 24h, 1M or -2h30m`,
        });
    }
    if (version === 2 && w.size?.startsWith('-'))
      issues.push({ field: 'size', severity: 'error', message: 'window size must not be negative' });
    if (w.truncate_to !== undefined && !['', 'h', 'd', 'w', 'M'].includes(w.truncate_to)) {
      issues.push({
        field: 'truncate_to',
        severity: version === 2 ? 'error' : 'warning',
        message: `window truncate_to "${w.truncate_to}" must be one of h, d, w, M${version === 1 ? ' (version 1 does not truncate other values)' : ''}`,
      });
    }
    for (const field of ['shift_by', 'location'] as const) {
      if (w[field] !== undefined)
        issues.push({
          field,
          severity: 'warning',
          message: `window ${field} is a version 3 field and is ignored in version ${version}`,
        });
    }
    return issues;
  }
  // version 3
  if (w.size === undefined && w.preset === undefined)
    issues.push({ severity: 'error', message: 'a version 3 window needs a size or a preset' });
  for (const field of ['size', 'shift_by'] as const) {
    const v = w[field];
    if (v === undefined || v === '' || v === 'None') continue;
    if (!V3_DURATION.test(v))
      issues.push({
        field,
        severity: 'error',
        message: `window ${field} "${v}" must be a whole number and a unit of h, d, w, M or y (e.g. 1d, -2h)`,
      });
  }
  if (w.size?.startsWith('-'))
    issues.push({ field: 'size', severity: 'error', message: 'window size must not be negative' });
  if (w.truncate_to !== undefined && !['h', 'd', 'w', 'M', 'y', 'None', ''].includes(w.truncate_to)) {
    issues.push({
      field: 'truncate_to',
      severity: 'error',
      message: `window truncate_to "${w.truncate_to}" must be one of h, d, w, M, y, None`,
    });
  }
  if (w.location && !isTimeZone(w.location)) {
    issues.push({
      field: 'location',
      severity: 'error',
      message: `window location "${w.location}" is not an IANA time zone such as UTC or Asia/Jakarta`,
    });
  }
  if (w.offset !== undefined)
    issues.push({
      field: 'offset',
      severity: 'warning',
      message: 'window offset is replaced by shift_by in version 3 and is ignored',
    });
  return issues;
}

const zoneCache = new Map<string, boolean>();
export function isTimeZone(tz: string): boolean {
  let ok = zoneCache.get(tz);
  // Stryker disable next-line ConditionalExpression: equivalent, the cache only saves time (deciding again gives the same answer)
  if (ok === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      ok = true;
    } catch {
      ok = false;
    }
    zoneCache.set(tz, ok);
  }
  return ok;
}
