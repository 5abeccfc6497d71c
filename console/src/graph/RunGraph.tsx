/**
 * A job's run graph drawn left to right: pre hooks, the task, post and fail hooks, each edge
 * styled and labelled by where it came from, with a legend. On a run's page the nodes take their
 * live state's colour and a click selects one.
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
import { statusColor } from '../ui/status';
import { layeredLayout } from './layout';

export type Stage = 'pre' | 'task' | 'post' | 'fail';
export type Origin = 'default' | 'rule' | 'depends_on' | 'legacy_hint' | 'unrecorded';

export interface GraphNodeIn {
  name: string;
  type: string;
  stage: Stage | string;
}

export interface GraphEdgeIn {
  from: string;
  to: string;
  origin: Origin | string;
  rule: number | null;
  detail: string;
}

export const STAGE_LABEL: Record<Stage, string> = {
  pre: 'Pre hook',
  task: 'Task',
  post: 'Post hook',
  fail: 'Fail hook',
};

/** Colour, dash pattern and short label of each edge origin; the legend shows the same. */
export const ORIGIN_STYLE: Record<Origin, { color: string; dash?: string; label: string; legend: string }> = {
  default: { color: '#6b7280', label: 'default', legend: 'Default order (pre → task → post/fail)' },
  rule: { color: '#1d4ed8', label: 'rule', legend: 'Project hook rule' },
  depends_on: { color: '#7e22ce', label: 'depends_on', legend: "The job's depends_on" },
  legacy_hint: {
    color: '#a16207',
    dash: '6 4',
    label: 'legacy hint',
    legend: "A plugin's legacy DependsOn hint",
  },
  unrecorded: {
    color: '#4b5563',
    dash: '2 4',
    label: 'unrecorded',
    legend: 'Origin not recorded (deployed before edge origins were kept)',
  },
};

const FAIL_COLOR = '#b91c1c';

export function originStyle(origin: string) {
  return (
    (ORIGIN_STYLE as Record<string, (typeof ORIGIN_STYLE)[Origin] | undefined>)[origin] ??
    ORIGIN_STYLE.unrecorded
  );
}

/** The short label drawn on an edge: `rule 2`, `depends_on`, `on failure · default`. */
export function edgeLabel(e: GraphEdgeIn, toFail: boolean): string {
  const base = e.origin === 'rule' && e.rule !== null ? `rule ${e.rule}` : originStyle(e.origin).label;
  return toFail ? `on failure · ${base}` : base;
}

type StepData = {
  name: string;
  plugin: string;
  stage: string;
  status?: string;
  selected: boolean;
};

const NODE_W = 190;
const NODE_H = 62;

function StepNode({ data }: NodeProps<Node<StepData, 'step'>>) {
  const c = data.status ? statusColor(data.status) : undefined;
  return (
    <div
      className={`graph-node stage-${data.stage}${data.selected ? ' selected' : ''}`}
      style={c ? { background: c.bg, color: c.fg, borderColor: c.bg } : undefined}
    >
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <div className="graph-node-stage">
        {STAGE_LABEL[data.stage as Stage] ?? data.stage}
        {c ? ` · ${c.label}` : ''}
      </div>
      <div className="graph-node-name">{data.name}</div>
      {data.plugin !== data.name && <div className="graph-node-plugin">{data.plugin}</div>}
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
}

const nodeTypes = { step: StepNode };

export interface RunGraphProps {
  nodes: readonly GraphNodeIn[];
  edges: readonly GraphEdgeIn[];
  /** Node name → state, on a run's page. */
  statuses?: ReadonlyMap<string, string>;
  selected?: string | null;
  onSelect?: (name: string) => void;
  label: string;
  /** False where the edges' origins are not known (a run holds only its nodes' order). */
  originLabels?: boolean;
}

export function RunGraph({
  nodes,
  edges,
  statuses,
  selected,
  onSelect,
  label,
  originLabels = true,
}: RunGraphProps) {
  const positions = useMemo(
    () =>
      layeredLayout(
        nodes.map((n) => ({ id: n.name, width: NODE_W, height: NODE_H })),
        edges,
      ),
    [nodes, edges],
  );
  const stageOf = useMemo(() => new Map(nodes.map((n) => [n.name, n.stage])), [nodes]);
  const flowNodes: Node<StepData, 'step'>[] = nodes.map((n) => {
    const status = statuses?.get(n.name);
    const stage = STAGE_LABEL[n.stage as Stage] ?? n.stage;
    return {
      id: n.name,
      type: 'step',
      position: positions.get(n.name) ?? { x: 0, y: 0 },
      data: {
        name: n.name,
        plugin: n.type,
        stage: n.stage,
        selected: selected === n.name,
        ...(status ? { status } : {}),
      },
      width: NODE_W,
      height: NODE_H,
      draggable: false,
      connectable: false,
      ariaLabel: `${stage} ${n.name}${n.type !== n.name ? ` (plugin ${n.type})` : ''}${status ? `: ${statusColor(status).label}` : ''}`,
      domAttributes: {
        'data-stage': n.stage,
        ...(status ? { 'data-status': status } : {}),
      } as Node['domAttributes'],
    };
  });
  const flowEdges: Edge[] = edges.map((e) => {
    const toFail = stageOf.get(e.to) === 'fail';
    const s = originStyle(e.origin);
    const color = toFail ? FAIL_COLOR : s.color;
    const dash = toFail ? '10 3 2 3' : s.dash;
    return {
      id: `${e.from}->${e.to}`,
      source: e.from,
      target: e.to,
      ...(originLabels ? { label: edgeLabel(e, toFail) } : toFail ? { label: 'on failure' } : {}),
      className: `edge-${e.origin}${toFail ? ' edge-fail' : ''}`,
      style: {
        stroke: color,
        strokeWidth: e.origin === 'default' ? 1.5 : 2.25,
        ...(dash ? { strokeDasharray: dash } : {}),
      },
      labelStyle: { fill: color, fontWeight: 600, fontSize: 11 },
      labelBgStyle: { fill: '#ffffff' },
      markerEnd: { type: MarkerType.ArrowClosed, color, width: 16, height: 16 },
      ariaLabel: `${e.from} to ${e.to}: ${e.detail || s.legend}${toFail ? ' (only when the task fails)' : ''}`,
      domAttributes: {
        'data-origin': e.origin,
        'data-from': e.from,
        'data-to': e.to,
      } as Edge['domAttributes'],
      focusable: false,
      selectable: false,
    };
  });
  return (
    <figure className="graph-frame" aria-label={label}>
      <ReactFlow
        nodes={flowNodes}
        edges={flowEdges}
        nodeTypes={nodeTypes}
        fitView
        fitViewOptions={{ padding: 0.15, maxZoom: 1.1 }}
        minZoom={0.2}
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable={Boolean(onSelect)}
        edgesFocusable={false}
        nodesFocusable={Boolean(onSelect)}
        onNodeClick={onSelect ? (_, n) => onSelect(n.id) : undefined}
        proOptions={{ hideAttribution: false }}
        panOnScroll={false}
        zoomOnScroll={false}
        preventScrolling={false}
      >
        <Background gap={20} color="#e5e7eb" />
        <Controls showInteractive={false} />
      </ReactFlow>
    </figure>
  );
}

/** What each edge style means; fail edges are red whatever their origin. */
export function EdgeLegend({ origins }: { origins: readonly string[] }) {
  const shown = (Object.keys(ORIGIN_STYLE) as Origin[]).filter(
    (o) => origins.includes(o) || o !== 'unrecorded',
  );
  return (
    <ul className="graph-legend" aria-label="Edge legend">
      {shown.map((o) => (
        <li key={o}>
          <LegendLine color={ORIGIN_STYLE[o].color} dash={ORIGIN_STYLE[o].dash} />
          {ORIGIN_STYLE[o].legend}
        </li>
      ))}
      <li>
        <LegendLine color={FAIL_COLOR} dash="10 3 2 3" />
        Into a fail hook: runs only when the task fails
      </li>
    </ul>
  );
}

function LegendLine({ color, dash }: { color: string; dash?: string | undefined }) {
  return (
    <svg width="36" height="10" aria-hidden="true" className="legend-line">
      <line x1="0" y1="5" x2="36" y2="5" stroke={color} strokeWidth="2.5" strokeDasharray={dash} />
    </svg>
  );
}
