import type { PlanNode, StepView } from './api.js';

// A run's or a workflow's plan drawn as nested boxes: a sequence top to bottom, a parallel group side by side, a
// for_each one node with its item counts; coloured by status where a run gives one. No graph library: the plan is
// series-parallel, so boxes inside boxes are its exact layout.

export function PlanGraph({ nodes, status }: { nodes: PlanNode[]; status?: (id: string) => StepView | undefined }) {
  return (
    <div class="graph sequence">
      {nodes.map((n) => (
        <GraphNode key={n.id} node={n} status={status} />
      ))}
    </div>
  );
}

function GraphNode({ node, status }: { node: PlanNode; status: ((id: string) => StepView | undefined) | undefined }) {
  const step = status?.(node.id);
  const state = step?.status ?? 'pending';
  if (node.kind === 'action') {
    const items = step?.items;
    return (
      <div class={`node ${state}`} data-step={node.id} title={`${node.id}: ${state}`}>
        <span class="node-id">{node.id}</span>
        <span class="node-type">{node.type}</span>
        {node.for_each && items ? <span class="node-items">{`${items['succeeded'] ?? 0}/${items['total'] ?? 0}`}</span> : null}
      </div>
    );
  }
  return (
    <div class={`group ${node.kind} ${state}`} data-step={node.id}>
      <div class="group-id">
        {node.id} <small>{node.kind}</small>
      </div>
      <div class={`group-body ${node.kind}`}>
        {node.children.map((c) => (
          <GraphNode key={c.id} node={c} status={status} />
        ))}
      </div>
    </div>
  );
}

/** A run's steps as a plan, from the groups its record names (the run JSON lists groups as steps too). */
export function planOfRun(steps: StepView[]): PlanNode[] {
  const main = steps.filter((s) => s.section === 'steps' && !s.id.includes('.'));
  const ids = new Set(main.map((s) => s.id));
  const childrenOf = new Map<string | null, StepView[]>();
  for (const s of main) {
    const parent = s.group !== null && ids.has(s.group) ? s.group : null;
    childrenOf.set(parent, [...(childrenOf.get(parent) ?? []), s]);
  }
  const build = (s: StepView): PlanNode => {
    const children = (childrenOf.get(s.id) ?? []).map(build);
    return {
      id: s.id,
      kind: children.length > 0 ? 'parallel' : 'action',
      type: null,
      for_each: s.items !== undefined,
      children,
      prompt: null,
    };
  };
  return (childrenOf.get(null) ?? []).map(build);
}
