/**
 * What one node of a job would receive at a scheduled time: its env values and files, and the
 * NAMES of its secrets. It asks with `preview: true`, so the server never sends a secret value,
 * whatever this token may read; names are all this panel could show anyway.
 */
import { type FormEvent, useState } from 'react';
import { api, apiError, unwrap } from '../api/client';

interface Preview {
  envs: Record<string, string>;
  files: Record<string, string>;
  secretNames: string[];
  warnings: string[];
}

export function RunInputPreview({
  project,
  job,
  nodes,
}: {
  project: string;
  job: string;
  nodes: readonly { name: string; type: string; stage: string }[];
}) {
  const [node, setNode] = useState(nodes.find((n) => n.stage === 'task')?.name ?? nodes[0]?.name ?? '');
  const [at, setAt] = useState(() => new Date().toISOString().slice(0, 16));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [preview, setPreview] = useState<Preview | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const n = nodes.find((x) => x.name === node);
    if (!n) return;
    const scheduled = new Date(`${at}:00Z`);
    if (Number.isNaN(scheduled.getTime())) {
      setError('Give a scheduled time.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const data = unwrap(
        await api.POST('/api/v1beta1/project/{project}/job/{job}/run_input', {
          params: { path: { project, job } },
          body: {
            scheduled_at: scheduled.toISOString(),
            instance_type: n.stage === 'task' ? 'task' : 'hook',
            instance_name: n.stage === 'task' ? n.type : n.name,
            preview: true,
          },
        }),
      );
      setPreview({
        envs: data.envs,
        files: data.files,
        secretNames: [...new Set([...Object.keys(data.secrets), ...data.secrets_withheld])].sort(),
        warnings: data.warnings,
      });
    } catch (x) {
      setPreview(null);
      setError(apiError(x));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="run-input">
      <form className="toolbar" onSubmit={submit} aria-label="Run input preview">
        <label className="field">
          Node
          <select value={node} onChange={(e) => setNode(e.target.value)}>
            {nodes.map((n) => (
              <option key={n.name} value={n.name}>
                {n.name} ({n.stage})
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          Scheduled at (UTC)
          <input type="datetime-local" value={at} onChange={(e) => setAt(e.target.value)} required />
        </label>
        <button type="submit" className="button" disabled={busy}>
          {busy ? 'Compiling…' : 'Preview run input'}
        </button>
      </form>
      {error && (
        <p className="alert alert-error" role="alert">
          {error}
        </p>
      )}
      {preview && (
        <div className="run-input-result">
          {preview.warnings.length > 0 && (
            <ul className="alert">
              {preview.warnings.map((w) => (
                <li key={w}>{w}</li>
              ))}
            </ul>
          )}
          <table className="list env-table">
            <caption>Environment</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Value</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(preview.envs)
                .sort(([a], [b]) => a.localeCompare(b))
                .map(([k, v]) => (
                  <tr key={k}>
                    <th scope="row">
                      <code>{k}</code>
                    </th>
                    <td>
                      <code>{v}</code>
                    </td>
                  </tr>
                ))}
            </tbody>
          </table>
          <h4>Secrets (names only)</h4>
          {preview.secretNames.length ? (
            <ul className="secret-names">
              {preview.secretNames.map((s) => (
                <li key={s}>
                  <code>{s}</code> <span className="muted fine">value not shown</span>
                </li>
              ))}
            </ul>
          ) : (
            <p className="muted">This node reads no secrets.</p>
          )}
          <h4>Files</h4>
          {Object.keys(preview.files).length === 0 ? (
            <p className="muted">No files.</p>
          ) : (
            Object.entries(preview.files).map(([name, text]) => (
              <details key={name}>
                <summary>
                  <code>in/{name}</code>
                </summary>
                <pre className="code-block">{text}</pre>
              </details>
            ))
          )}
        </div>
      )}
    </div>
  );
}
