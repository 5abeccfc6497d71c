import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorsOf, warningsOf } from '../../src/core/problem.js';
import { loadProjectConfig } from '../../src/spec/project-config.js';
import { loadServerConfig } from '../../src/spec/server-config.js';
import { FIXTURES, tempDir } from '../helpers/temp-project.js';

describe('optimus.yaml', () => {
  it.each(['raystack-optimus/optimus.sample.yaml', 'goto-optimus/optimus.sample.yaml'])(
    'reads the upstream sample %s',
    (f) => {
      const r = loadProjectConfig(join(FIXTURES, f));
      expect(errorsOf(r.problems)).toEqual([]);
      expect(r.config!.project.name).toBe('sample_project');
      expect(r.config!.host).toBe('localhost:9100');
      expect(r.config!.installLocation).toBe(join(FIXTURES, f.split('/')[0]!, '.plugins'));
    },
  );

  it('reads the plugins section, including the proposal’s literal shapes', () => {
    const dir = tempDir({
      'optimus.yaml': `version: 1
project: {name: p}
plugins:
  install_location: vendor/plugins
  providers:
    - http: {name: internal, url: "https://plugins.example/"}
    - {name: bucket, type: s3, bucket: acme-plugins}
  list:
    - plugin: {name: wh, url: wh.tar.gz, provider: internal}
    - {name: notify, url: "s3://acme-plugins/notify.yaml"}
  dependencies: ["a >> b"]
`,
    });
    const r = loadProjectConfig(dir);
    expect(errorsOf(r.problems)).toEqual([]);
    const c = r.config!;
    expect(c.installLocation).toBe(join(dir, 'vendor/plugins'));
    expect(c.plugins.providers.map((p) => `${p.name}:${p.type}`)).toEqual(['internal:http', 'bucket:s3']);
    expect(c.plugins.list.map((p) => p.name)).toEqual(['wh', 'notify']);
    expect(c.hookRules.map((r) => r.text)).toEqual(['a >> b']);
  });

  it('reports every problem of the plugins section and namespaces with positions', () => {
    const dir = tempDir({
      'optimus.yaml': `version: 1
project: {name: p}
namespaces:
  - {name: a}
  - {name: a}
plugins:
  list:
    - {name: x, url: x.yaml, provider: nowhere}
  dependencies: ["a b"]
`,
    });
    const r = loadProjectConfig(dir);
    expect(errorsOf(r.problems).map((p) => `${p.line} ${p.path} ${p.code}`)).toEqual([
      '5 namespaces[1].name NAMESPACE_DUPLICATE',
      '9 plugins.dependencies[0] HOOK_RULE_INVALID',
      '8 plugins.list[0].provider PLUGINS_PROVIDER_UNKNOWN',
    ]);
  });
});

describe('server config', () => {
  it('reads the upstream sample, whose settings are all commented out, as the defaults', () => {
    const r = loadServerConfig(join(FIXTURES, 'raystack-optimus/config.sample.yaml'));
    expect(errorsOf(r.problems)).toEqual([]);
    expect(r.config!.serve).toMatchObject({ host: '127.0.0.1', port: 9100, tokens: [] });
    expect(r.config!.dbUrl).toBeUndefined();
    expect(r.config!.scheduler.type).toBe('local');
  });

  it('reads serve, db, plugins and scheduler, and warns about upstream-only keys', () => {
    const dir = tempDir({
      'server.yaml': `version: 1
serve:
  port: 9200
  app_key: \${OPTIMUS_APP_KEY}
  auth: {tokens: [t1]}
  db: {dsn: "postgres://u@localhost/optimus"}
plugins:
  install_location: plugins
  list: [{name: a, url: a.yaml}]
scheduler: {type: airflow, storage_path: "file:///dags", base_image: "optimus/base:1"}
telemetry: {profile_addr: ":9110"}
`,
    });
    const r = loadServerConfig(join(dir, 'server.yaml'));
    expect(errorsOf(r.problems)).toEqual([]);
    expect(warningsOf(r.problems)).toMatchObject([{ path: 'telemetry', line: 11 }]);
    expect(r.config).toMatchObject({
      serve: { port: 9200, tokens: ['t1'], appKey: '$' + '{OPTIMUS_APP_KEY}' },
      dbUrl: 'postgres://u@localhost/optimus',
      scheduler: { type: 'airflow', storagePath: 'file:///dags', baseImage: 'optimus/base:1' },
    });
    expect(r.config!.plugins.installLocation).toBe(join(dir, 'plugins'));
  });

  it('reads the local runner settings, with defaults for what is left out', () => {
    const dir = tempDir({
      'a.yaml':
        'scheduler: {executor: docker, concurrency: 3, node_timeout: 1h30m, upstream_timeout: 48h, docker: {network: host}}\n',
      'b.yaml': 'serve: {port: 9300}\n',
      'c.yaml': 'scheduler: {executor: ssh, concurrency: 0, node_timeout: 0s, upstream_timeout: 0s}\n',
    });
    expect(loadServerConfig(join(dir, 'a.yaml')).config!.scheduler).toEqual({
      type: 'local',
      executor: 'docker',
      concurrency: 3,
      nodeTimeoutMs: 5_400_000,
      upstreamTimeoutMs: 172_800_000,
      docker: { network: 'host' },
    });
    expect(loadServerConfig(join(dir, 'b.yaml')).config!.scheduler).toEqual({
      type: 'local',
      executor: 'process',
      concurrency: 8,
      nodeTimeoutMs: 3_600_000,
      upstreamTimeoutMs: 86_400_000,
      docker: { network: 'none' },
    });
    expect(errorsOf(loadServerConfig(join(dir, 'c.yaml')).problems).map((p) => p.path)).toEqual([
      'scheduler.executor',
      'scheduler.concurrency',
      'scheduler.node_timeout',
      'scheduler.upstream_timeout',
    ]);
  });

  it('rejects a short app key without printing it', () => {
    const dir = tempDir({
      'server.yaml': 'serve: {app_key: tooshort-secret, port: 70000}\nscheduler: {type: cron}\n',
    });
    const r = loadServerConfig(join(dir, 'server.yaml'));
    expect(errorsOf(r.problems).map((p) => p.path)).toEqual(['serve.port', 'scheduler.type']);
    const again = loadServerConfig(
      join(tempDir({ 's.yaml': 'serve: {app_key: tooshort-secret}\n' }), 's.yaml'),
    );
    expect(errorsOf(again.problems)).toMatchObject([{ path: 'serve.app_key' }]);
    expect(JSON.stringify(again.problems)).not.toContain('tooshort-secret');
  });

  it('rejects a bearer token that looks like a pod token, without printing it', () => {
    const dir = tempDir({
      'server.yaml':
        'serve:\n  auth:\n    tokens:\n      - optimus-pod.secret-one\n      - {token: optimus-pod.secret-two, read_secrets: true}\n      - fine-token\n',
    });
    const r = loadServerConfig(join(dir, 'server.yaml'));
    expect(errorsOf(r.problems).map((p) => p.path)).toEqual([
      'serve.auth.tokens[0]',
      'serve.auth.tokens[1].token',
    ]);
    expect(errorsOf(r.problems)[0]!.message).toContain('optimus-pod.');
    expect(JSON.stringify(r.problems)).not.toContain('secret-one');
    expect(JSON.stringify(r.problems)).not.toContain('secret-two');
  });
});
