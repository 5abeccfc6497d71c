import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runOptimus } from '../helpers/cli.js';
import { serveForSuite } from '../helpers/serve-process.js';
import { EXAMPLE } from '../helpers/temp-project.js';

const server = serveForSuite();
let project: string;

const optimus = (args: string[]) =>
  runOptimus([...args, '--dir', project, '--host', server.url], {
    env: { OPTIMUS_CACHE_DIR: join(server.root, 'cache') },
  });

beforeAll(() => {
  project = join(server.root, 'project');
  cpSync(EXAMPLE, project, { recursive: true });
}, 60_000);

describe('optimus job inspect shows lineage', () => {
  it('shows the inferred and static upstreams and downstreams of the deployed example project', () => {
    const deploy = optimus(['deploy', '--json']);
    expect(deploy.code, deploy.stdout + deploy.stderr).toBe(0);

    const roi = optimus(['job', 'inspect', 'marketing-roi', '--json']);
    expect(roi.code, roi.stderr).toBe(0);
    expect(roi.json()).toMatchObject({
      ok: true,
      destination: 'bigquery://acme-dw:finance.marketing_roi',
      sources: [
        {
          urn: 'bigquery://acme-dw:finance.revenue_daily',
          external: false,
          writers: [{ project: 'acme-analytics', namespace: 'finance', job: 'revenue-daily' }],
        },
        {
          urn: 'bigquery://acme-dw:marketing.campaign_performance',
          external: false,
          writers: [{ project: 'acme-analytics', namespace: 'marketing', job: 'campaign-performance' }],
        },
      ],
      upstreams: [
        { namespace: 'marketing', job: 'campaign-performance', kind: 'inferred' },
        { namespace: 'finance', job: 'revenue-daily', kind: 'inferred' },
      ],
      downstreams: [],
    });

    const revenue = optimus(['job', 'inspect', 'revenue-daily']);
    expect(revenue.code, revenue.stderr).toBe(0);
    expect(revenue.stdout).toContain('  destination: bigquery://acme-dw:finance.revenue_daily');
    expect(revenue.stdout).toMatch(
      / {4}bigquery:\/\/acme-dw:billing\.invoices \(external: no job writes it\)/,
    );
    expect(revenue.stdout).toContain('  upstreams: none');
    expect(revenue.stdout).toContain('    → finance/ledger-export (dependencies[0])');
    expect(revenue.stdout).toContain(
      '    → finance/marketing-roi (reads bigquery://acme-dw:finance.revenue_daily)',
    );

    const ledger = optimus(['job', 'inspect', 'ledger-export']);
    expect(ledger.stdout).toContain('    ← finance/revenue-daily (dependencies[0])');
    expect(ledger.stdout).toContain('  destination: none inferred');
  });
});
