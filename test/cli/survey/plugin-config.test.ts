import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiClient, createApiClient } from '../../../src/cli/api-client.js';
import { surveyPluginConfig } from '../../../src/cli/survey/plugin-config.js';
import {
  getPlugin,
  type PluginDetail,
  type ValidationResult,
} from '../../../src/cli/survey/server-plugins.js';
import { createSurvey } from '../../../src/cli/survey/survey.js';
import { type TestServer, testServer } from '../../helpers/server.js';
import { scriptedPrompter } from './scripted-prompter.js';

let server: TestServer;
let client: ApiClient;
beforeAll(async () => {
  server = await testServer();
  const url = await server.app.listen({ port: 0, host: '127.0.0.1' });
  client = createApiClient({ host: url });
});
afterAll(() => server.close());

const flags = (answers: Record<string, string>) =>
  createSurvey({ answers: new Map(Object.entries(answers)), interactive: false });

describe("a plugin's questions, checked by the server", () => {
  it('asks a subquestion only when its parent has the matching answer', async () => {
    const plugin = await getPlugin(client, 'warehouse-load');
    const base = { PROJECT: 'acme', DATASET: 'sales', TABLE: 'orders' };
    const append = await surveyPluginConfig(flags(base), client, plugin, 'task');
    expect(append.config).not.toHaveProperty('PARTITION_FILTER');
    expect(append.config.LOAD_METHOD).toBe('APPEND');

    const replace = flags({ ...base, LOAD_METHOD: 'REPLACE' });
    await expect(surveyPluginConfig(replace, client, plugin, 'task')).rejects.toThrow(
      '- PARTITION_FILTER: Partition filter to replace',
    );
  });

  it('writes secrets as references and leaves required configs nobody asks for empty', async () => {
    const plugin = await getPlugin(client, 'slack-notify');
    const hook = await surveyPluginConfig(flags({ CHANNEL: '#data' }), client, plugin, 'hook');
    expect(hook.config).toEqual({
      CHANNEL: '#data',
      MESSAGE: '{{ .JOB_NAME }} finished',
      SLACK_TOKEN: '{{ .secret.SLACK_TOKEN }}',
    });
    expect(hook.secrets).toEqual(['SLACK_TOKEN']);
    // The server's CONFIG_MISSING for a placeholder is expected: the user fills it in job.yaml.
    const topic = await surveyPluginConfig(
      flags({}),
      client,
      await getPlugin(client, 'publish-event'),
      'hook',
    );
    expect(topic.config).toEqual({ TOPIC: '' });
    expect(topic.placeholders).toEqual([{ key: 'TOPIC', description: 'topic to publish to' }]);
  });

  it("shows the server's message and asks the refused question again on a terminal", async () => {
    const plugin: PluginDetail = {
      name: 'strict',
      description: '',
      version: '1',
      kind: 'yaml',
      mods: [],
      stage_hint: null,
      task_only: false,
      questions: [{ name: 'TABLE', prompt: 'Target table', required: true, subquestions: [] }],
      configs: [{ name: 'TABLE', required: true, secret: false }],
      default_config: {},
      default_assets: {},
    };
    const sent: Record<string, string>[] = [];
    const fake = {
      post: async (_path: string, body: { answers: Record<string, string> }): Promise<ValidationResult> => {
        sent.push(body.answers);
        return body.answers.TABLE === 'reserved'
          ? {
              valid: false,
              errors: [
                { path: 'config.TABLE', code: 'CONFIG_INVALID', message: 'table "reserved" is reserved' },
              ],
              warnings: [],
            }
          : { valid: true, errors: [], warnings: [] };
      },
    } as unknown as ApiClient;
    const { prompter, shown } = scriptedPrompter({ 'Target table': ['reserved', 'orders'] });
    const survey = createSurvey({ answers: new Map(), interactive: true, prompter });
    const result = await surveyPluginConfig(survey, fake, plugin, 'task');
    expect(result.config).toEqual({ TABLE: 'orders' });
    expect(shown).toEqual(['✗ TABLE: table "reserved" is reserved']);
    expect(sent).toEqual([{ TABLE: 'reserved' }, { TABLE: 'orders' }]);
  });

  it('fails naming the question when the server refuses an answer given by flag', async () => {
    const fake = {
      post: async (): Promise<ValidationResult> => ({
        valid: false,
        errors: [{ path: 'config.TABLE', code: 'CONFIG_INVALID', message: 'config TABLE: too long' }],
        warnings: [],
      }),
    } as unknown as ApiClient;
    const plugin = await getPlugin(client, 'data-audit');
    await expect(surveyPluginConfig(flags({ AUDIT_TABLE: 'a.b.c' }), fake, plugin, 'hook')).rejects.toThrow(
      'the server refused the answers for plugin "data-audit":\n  - TABLE: config TABLE: too long',
    );
  });
});
