/**
 * One plugin's spec as the server serves it: versions with their images (and the wrapper images
 * Airflow pods run), the survey's questions with their validations, the configs with their
 * required and secret flags, mods, and the deployed jobs that use it.
 */
import { Link } from 'wouter';
import { api, unwrap } from '../api/client';
import { PageHeader } from '../ui/Layout';
import { href } from '../ui/links';
import { Empty, ErrorState, Loading } from '../ui/states';
import { useApi } from '../ui/use-api';
import { pluginUse } from './PluginsPage';

/** A question and its subquestions (the served spec nests them; any depth is shown). */
interface Question {
  name: string;
  prompt: string;
  help?: string | undefined;
  default?: string | undefined;
  multiselect?: string[] | undefined;
  regexp?: string | undefined;
  validationerror?: string | undefined;
  minlength?: number | undefined;
  maxlength?: number | undefined;
  required: boolean;
  subquestions?: { ifvalue: string; questions: Question[] }[] | undefined;
}

export default function PluginPage({ name }: { name: string }) {
  const plugin = useApi(
    async (signal) =>
      unwrap(await api.GET('/api/v1beta1/plugins/{name}', { params: { path: { name } }, signal })).plugin,
    [name],
  );
  const crumbs = [{ href: '/plugins', label: 'Plugins' }];
  if (plugin.status === 'error')
    return (
      <>
        <PageHeader title={name} crumbs={crumbs} />
        <ErrorState message={plugin.error} onRetry={plugin.reload} />
      </>
    );
  if (!plugin.data) return <Loading what={`plugin ${name}`} />;
  const p = plugin.data;
  return (
    <>
      <PageHeader
        title={p.name}
        crumbs={crumbs}
        subtitle={p.description || undefined}
        actions={
          <dl className="facts">
            <div>
              <dt>Version</dt>
              <dd>
                <code>{p.version}</code>
              </dd>
            </div>
            <div>
              <dt>Dialect</dt>
              <dd>{p.dialect}</dd>
            </div>
            <div>
              <dt>Use</dt>
              <dd>{pluginUse(p)}</dd>
            </div>
            <div>
              <dt>Mods</dt>
              <dd>{p.mods.length ? p.mods.join(', ') : 'none'}</dd>
            </div>
          </dl>
        }
      />
      <section aria-labelledby="versions">
        <h2 id="versions">Versions</h2>
        <table className="list">
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Image</th>
              <th scope="col">Entrypoint</th>
              <th scope="col">Wrapper image (Airflow)</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(p.versions).map(([v, spec]) => (
              <tr key={v}>
                <th scope="row">{v}</th>
                <td>
                  <code>{spec.tag ? `${spec.image}:${spec.tag}` : spec.image}</code>
                </td>
                <td className="wrap">
                  {!spec.entrypoint ? (
                    <span className="muted">the image's own</span>
                  ) : spec.entrypoint.args?.length ? (
                    <code>{spec.entrypoint.args.join(' ')}</code>
                  ) : (
                    <details>
                      <summary>
                        <code>{spec.entrypoint.shell} -c</code> script (
                        {spec.entrypoint.script.trim().split('\n').length} lines)
                      </summary>
                      <pre>{spec.entrypoint.script}</pre>
                    </details>
                  )}
                </td>
                <td>
                  {p.wrapper_images?.[v] ? (
                    <code>{p.wrapper_images[v]}</code>
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="configs">
        <h2 id="configs">Configs</h2>
        {p.configs.length === 0 ? (
          <Empty>This plugin declares no configs.</Empty>
        ) : (
          <table className="list">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Description</th>
                <th scope="col">Required</th>
                <th scope="col">Secret</th>
                <th scope="col">Default</th>
              </tr>
            </thead>
            <tbody>
              {p.configs.map((c) => (
                <tr key={c.name}>
                  <th scope="row">
                    <code>{c.name}</code>
                  </th>
                  <td className="wrap">{c.description || <span className="muted">—</span>}</td>
                  <td>{c.required ? <span className="tag strong">required</span> : 'optional'}</td>
                  <td>{c.secret ? <span className="tag warn">secret</span> : 'no'}</td>
                  <td>
                    {c.default !== undefined ? (
                      <code>{c.secret ? '(hidden)' : c.default || '""'}</code>
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section aria-labelledby="questions">
        <h2 id="questions">Questions</h2>
        <p className="muted">
          What `optimus job create` asks when a job uses this plugin, and how it checks the answers.
        </p>
        {p.questions.length === 0 ? (
          <Empty>This plugin asks no questions.</Empty>
        ) : (
          <Questions questions={p.questions} />
        )}
      </section>
      {(Object.keys(p.default_config).length > 0 || p.destination_urn_template) && (
        <section aria-labelledby="defaults">
          <h2 id="defaults">Defaults</h2>
          <dl className="pairs">
            {Object.entries(p.default_config).map(([k, v]) => (
              <div key={k}>
                <dt>
                  <code>{k}</code>
                </dt>
                <dd>
                  <code>{v}</code>
                </dd>
              </div>
            ))}
            {p.destination_urn_template && (
              <div>
                <dt>Destination</dt>
                <dd>
                  <code>{p.destination_urn_template}</code>
                </dd>
              </div>
            )}
          </dl>
        </section>
      )}
      {Object.keys(p.default_assets).length > 0 && (
        <section aria-labelledby="assets">
          <h2 id="assets">Default assets</h2>
          {Object.entries(p.default_assets).map(([file, text]) => (
            <details key={file} className="asset">
              <summary>
                <code>{file}</code>
              </summary>
              <pre>{text}</pre>
            </details>
          ))}
        </section>
      )}
      {p.hints.dependsOn.length > 0 && (
        <section aria-labelledby="hints">
          <h2 id="hints">Legacy ordering hint</h2>
          <p>
            As a hook, this plugin runs after{' '}
            {p.hints.dependsOn.map((d) => (
              <code key={d}>{d} </code>
            ))}{' '}
            when the job has them (its spec's <code>dependson</code>).
          </p>
        </section>
      )}
      <Usage name={p.name} />
    </>
  );
}

function Questions({ questions }: { questions: Question[] }) {
  return (
    <ul className="questions">
      {questions.map((q) => (
        <li key={q.name}>
          <div className="question">
            <code>{q.name}</code> <span>{q.prompt}</span>
            {q.required && <span className="tag strong">required</span>}
          </div>
          {q.help && <p className="muted">{q.help}</p>}
          <ul className="rules">
            {q.default !== undefined && (
              <li>
                default <code>{q.default}</code>
              </li>
            )}
            {q.multiselect && q.multiselect.length > 0 && (
              <li>
                one of{' '}
                {q.multiselect.map((o) => (
                  <code key={o}>{o} </code>
                ))}
              </li>
            )}
            {q.regexp && (
              <li>
                matches <code>{q.regexp}</code>
                {q.validationerror && <> (else: “{q.validationerror}”)</>}
              </li>
            )}
            {q.minlength !== undefined && <li>at least {q.minlength} characters</li>}
            {q.maxlength !== undefined && <li>at most {q.maxlength} characters</li>}
          </ul>
          {(q.subquestions ?? []).map((s) => (
            <div key={s.ifvalue} className="subquestions">
              <p>
                When the answer is <code>{s.ifvalue}</code>:
              </p>
              <Questions questions={s.questions} />
            </div>
          ))}
        </li>
      ))}
    </ul>
  );
}

function Usage({ name }: { name: string }) {
  const usage = useApi(
    async (signal) =>
      unwrap(
        await api.GET('/api/v1beta1/plugins/{name}/usage', {
          params: { path: { name }, query: { limit: 1000 } },
          signal,
        }),
      ),
    [name],
  );
  return (
    <section aria-labelledby="usage">
      <h2 id="usage">Used by</h2>
      {usage.status === 'error' && <ErrorState message={usage.error} onRetry={usage.reload} />}
      {!usage.data ? (
        usage.status === 'loading' && <Loading what="the jobs using it" />
      ) : usage.data.total === 0 ? (
        <Empty>No deployed job uses this plugin.</Empty>
      ) : (
        <>
          <p className="count">
            {usage.data.total.toLocaleString()} {usage.data.total === 1 ? 'use' : 'uses'}
            {usage.data.total > usage.data.jobs.length && `, the first ${usage.data.jobs.length} shown`}
          </p>
          <table className="list">
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">Project / namespace</th>
                <th scope="col">As</th>
              </tr>
            </thead>
            <tbody>
              {usage.data.jobs.map((u) => (
                <tr key={`${u.project}/${u.namespace}/${u.job}/${u.hook ?? ''}`}>
                  <th scope="row">
                    <Link href={href.job(u.project, u.namespace, u.job)}>{u.job}</Link>
                  </th>
                  <td>
                    {u.project} <span className="muted">/</span> {u.namespace}
                  </td>
                  <td>{u.as === 'task' ? 'task' : `hook ${u.hook ?? ''}`}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
