/**
 * A job's lineage as a graph: the jobs upstream of it (through the tables they write and it reads,
 * or a static dependency), the tables themselves (external ones marked), its destination and the
 * jobs downstream. A job node links to its page.
 */
import {
  Background,
  Controls,
  type Edge,
  Handle,
  MarkerType,
  type Node,
  type NodeProps,
  Position,
  ReactFlow,
} from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import './graph.css';
import { useMemo } from 'react';
import { href } from '../ui/links';
import { layeredLayout } from './layout';

export interface JobRef {
  project: string;
  namespace: string;
  job: string;
}

export interface LineageIn {
  self: JobRef;
  destination: string | null;
  sources: readonly { urn: string; writers: readonly JobRef[]; external: boolean }[];
  upstreams: readonly (JobRef & { kind: string; via: readonly string[] })[];
  downstreams: readonly (JobRef & { kind: string; via: readonly string[] })[];
}

type LineageData =
  | { kind: 'job'; ref: JobRef; self: boolean; sameProject: boolean; role: string }
  | { kind: 'table'; urn: string; external: boolean; role: string };

export const jobHref = (j: JobRef) => `#${href.job(j.project, j.namespace, j.job)}`;
const jobId = (j: JobRef) => `job:${j.project}/${j.job}`;

function LineageNode({ data }: NodeProps<Node<LineageData, 'lineage'>>) {
  return (
    <div
      className={`lineage-node ${data.kind}${data.kind === 'job' && data.self ? ' self' : ''}${data.kind === 'table' && data.external ? ' external' : ''}`}
    >
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <div className="graph-node-stage">{data.role}</div>
      {data.kind === 'job' ? (
        data.self ? (
          <div className="graph-node-name">{data.ref.job}</div>
        ) : (
          <a className="graph-node-name nodrag" href={jobHref(data.ref)}>
            {data.sameProject ? data.ref.job : `${data.ref.project}/${data.ref.job}`}
          </a>
        )
      ) : (
        <div className="graph-node-name table-urn" title={data.urn}>
          {data.urn}
        </div>
      )}
      {data.kind === 'job' && <div className="graph-node-plugin">{data.ref.namespace}</div>}
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
}

const nodeTypes = { lineage: LineageNode };
const W = 220;
const H = 62;

/** Nodes and edges of the lineage picture; pure, so the page and a test can share it. */
export function lineageElements(l: LineageIn) {
  const nodes = new Map<string, LineageData>();
  const edges = new Map<string, { from: string; to: string; label: string }>();
  const self = jobId(l.self);
  const sameProject = (j: JobRef) => j.project === l.self.project;
  nodes.set(self, { kind: 'job', ref: l.self, self: true, sameProject: true, role: 'This job' });
  const addJob = (j: JobRef, role: string) => {
    if (!nodes.has(jobId(j)))
      nodes.set(jobId(j), { kind: 'job', ref: j, self: false, sameProject: sameProject(j), role });
    return jobId(j);
  };
  const addEdge = (from: string, to: string, label: string) =>
    edges.set(`${from}->${to}`, { from, to, label });
  for (const s of l.sources) {
    const t = `table:${s.urn}`;
    nodes.set(t, {
      kind: 'table',
      urn: s.urn,
      external: s.external,
      role: s.external ? 'Source · external' : 'Source',
    });
    addEdge(t, self, 'reads');
    for (const w of s.writers) addEdge(addJob(w, 'Upstream job'), t, 'writes');
  }
  for (const u of l.upstreams) {
    const id = addJob(u, 'Upstream job');
    const throughTable = l.sources.some((s) => s.writers.some((w) => jobId(w) === id));
    if (!throughTable) addEdge(id, self, u.kind === 'static' ? 'static dependency' : 'upstream');
  }
  let dest: string | undefined;
  if (l.destination) {
    dest = `table:${l.destination}`;
    nodes.set(dest, { kind: 'table', urn: l.destination, external: false, role: 'Destination' });
    addEdge(self, dest, 'writes');
  }
  for (const d of l.downstreams) {
    const id = addJob(d, 'Downstream job');
    if (dest && d.kind === 'inferred' && l.destination && d.via.includes(l.destination))
      addEdge(dest, id, 'reads');
    else addEdge(self, id, d.kind === 'static' ? 'static dependency' : 'downstream');
  }
  return { nodes, edges: [...edges.values()] };
}

export function LineageGraph({ lineage }: { lineage: LineageIn }) {
  const { nodes, edges } = useMemo(() => lineageElements(lineage), [lineage]);
  const positions = useMemo(
    () =>
      layeredLayout(
        [...nodes.keys()].map((id) => ({ id, width: W, height: H })),
        edges,
        150,
      ),
    [nodes, edges],
  );
  const flowNodes: Node<LineageData, 'lineage'>[] = [...nodes].map(([id, data]) => ({
    id,
    type: 'lineage',
    position: positions.get(id) ?? { x: 0, y: 0 },
    data,
    width: W,
    height: H,
    draggable: false,
    connectable: false,
    selectable: false,
    ariaLabel:
      data.kind === 'job'
        ? `${data.role} ${data.ref.project}/${data.ref.job}`
        : `${data.role} table ${data.urn}`,
    domAttributes: { 'data-kind': data.kind, 'data-role': data.role } as Node['domAttributes'],
  }));
  const flowEdges: Edge[] = edges.map((e) => ({
    id: `${e.from}->${e.to}`,
    source: e.from,
    target: e.to,
    label: e.label,
    style: {
      stroke: '#6b7280',
      strokeWidth: 1.5,
      ...(e.label === 'static dependency' ? { strokeDasharray: '6 4' } : {}),
    },
    labelStyle: { fill: '#374151', fontSize: 11 },
    markerEnd: { type: MarkerType.ArrowClosed, color: '#6b7280' },
    focusable: false,
    selectable: false,
  }));
  return (
    <figure className="graph-frame lineage" aria-label={`Lineage of ${lineage.self.job}`}>
      <ReactFlow
        nodes={flowNodes}
        edges={flowEdges}
        nodeTypes={nodeTypes}
        fitView
        fitViewOptions={{ padding: 0.15, maxZoom: 1.1 }}
        minZoom={0.2}
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable={false}
        nodesFocusable={false}
        edgesFocusable={false}
        onNodeClick={(_, n) => {
          const d = n.data as LineageData;
          if (d.kind === 'job' && !d.self) window.location.hash = jobHref(d.ref).slice(1);
        }}
        zoomOnScroll={false}
        preventScrolling={false}
      >
        <Background gap={20} color="#e5e7eb" />
        <Controls showInteractive={false} />
      </ReactFlow>
    </figure>
  );
}
