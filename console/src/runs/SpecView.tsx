/** A deployed spec as a collapsible tree (each mapping and list a disclosure), or as JSON text. */
import { useState } from 'react';

function Value({ value }: { value: unknown }) {
  if (value === null) return <span className="spec-null">null</span>;
  if (typeof value === 'string') return <span className="spec-string">{value === '' ? '""' : value}</span>;
  if (typeof value === 'number' || typeof value === 'boolean')
    return <span className="spec-scalar">{String(value)}</span>;
  return <Tree value={value} />;
}

function Tree({ value }: { value: unknown }) {
  const entries: [string, unknown][] = Array.isArray(value)
    ? value.map((v, i) => [`- ${i}`, v])
    : Object.entries(value as Record<string, unknown>);
  if (!entries.length) return <span className="spec-null">{Array.isArray(value) ? '[]' : '{}'}</span>;
  return (
    <ul className="spec-tree">
      {entries.map(([k, v]) =>
        v !== null && typeof v === 'object' ? (
          <li key={k}>
            <details open>
              <summary>
                <span className="spec-key">{k}</span>
                <span className="muted fine">
                  {' '}
                  {Array.isArray(v) ? `${v.length} item${v.length === 1 ? '' : 's'}` : ''}
                </span>
              </summary>
              <Tree value={v} />
            </details>
          </li>
        ) : (
          <li key={k}>
            <span className="spec-key">{k}:</span> <Value value={v} />
          </li>
        ),
      )}
    </ul>
  );
}

export function SpecView({ spec }: { spec: unknown }) {
  const [json, setJson] = useState(false);
  return (
    <div className="spec-view">
      <div className="spec-toolbar">
        <button type="button" className="button" aria-pressed={json} onClick={() => setJson(!json)}>
          {json ? 'Show as tree' : 'Show as JSON'}
        </button>
      </div>
      {json ? (
        // biome-ignore lint/a11y/noNoninteractiveTabindex: the block scrolls, so keyboard users must reach it
        <pre className="code-block" tabIndex={0}>
          {JSON.stringify(spec, null, 2)}
        </pre>
      ) : (
        <Value value={spec} />
      )}
    </div>
  );
}

export function AssetsView({ assets }: { assets: Record<string, string> }) {
  const names = Object.keys(assets).sort();
  const [open, setOpen] = useState<string | null>(names[0] ?? null);
  if (!names.length) return <p className="muted">This job has no assets.</p>;
  return (
    <div className="assets">
      <ul className="asset-list" aria-label="Asset files">
        {names.map((n) => (
          <li key={n}>
            <button
              type="button"
              className={`link-button${open === n ? ' current' : ''}`}
              aria-pressed={open === n}
              onClick={() => setOpen(n)}
            >
              {n}
            </button>
            <span className="muted fine"> {assets[n]!.length} chars</span>
          </li>
        ))}
      </ul>
      {open !== null && (
        // biome-ignore lint/a11y/noNoninteractiveTabindex: the block scrolls, so keyboard users must reach it
        <pre className="code-block asset-content" tabIndex={0}>
          {assets[open]}
        </pre>
      )}
    </div>
  );
}
