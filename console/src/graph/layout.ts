/** Left-to-right layered positions for a small directed graph (dagre), as @xyflow/react wants them. */
import dagre from '@dagrejs/dagre';

export interface LayoutNode {
  id: string;
  width: number;
  height: number;
}

/** Top-left corner of each node (xyflow's origin), keyed by id. */
export function layeredLayout(
  nodes: readonly LayoutNode[],
  edges: readonly { from: string; to: string }[],
  /** Room between layers, for the edge labels drawn there. */
  rankSep = 90,
): Map<string, { x: number; y: number }> {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'LR', nodesep: 28, ranksep: rankSep, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.id, { width: n.width, height: n.height });
  edges.forEach((e, i) => {
    if (g.hasNode(e.from) && g.hasNode(e.to)) g.setEdge(e.from, e.to, {}, String(i));
  });
  dagre.layout(g);
  const out = new Map<string, { x: number; y: number }>();
  for (const n of nodes) {
    const p = g.node(n.id);
    out.set(n.id, { x: (p?.x ?? 0) - n.width / 2, y: (p?.y ?? 0) - n.height / 2 });
  }
  return out;
}
