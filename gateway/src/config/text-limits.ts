/**
 * Limits that must agree across processes: every node a plan's traffic can reach must accept the
 * longest text that plan lets through, or a request the gateway admitted comes back 413 from the
 * node (enterprise allowed 5,000 characters while its nodes took 4,000). Both sides count
 * Unicode code points (`protocol/text-length.ts`).
 *
 * What a plan "lets through" is a function, so a gateway that splits long text into segments
 * passes its per-segment maximum instead of the plan limit.
 * @module
 */

/** The node runtime's own default `max_text_chars` (node-runtime/src/config/schema.ts). */
export const NODE_DEFAULT_MAX_TEXT_CHARS = 4000;

export interface TextLimitView {
  plans: Readonly<Record<string, { primary: string; fallback: string; max_text_chars: number }>>;
  regions: readonly { nodes: readonly { id: string; models: readonly string[]; max_text_chars?: number | undefined }[] }[];
  canaries: readonly { canary: string; plans: readonly string[] }[];
}

/** The most characters one node request can carry for this plan. */
export type NodeRequestMax = (planName: string, plan: { max_text_chars: number }) => number;

export const planLimit: NodeRequestMax = (_name, plan) => plan.max_text_chars;

/**
 * One message per (plan, node) pair that disagrees; empty when every node accepts what every
 * plan routed to it allows.
 * @example
 * const problems = textLimitConflicts(config); // [] or ['plan enterprise allows 5000 …']
 */
export function textLimitConflicts(cfg: TextLimitView, requestMax: NodeRequestMax = planLimit): string[] {
  const problems: string[] = [];
  for (const [name, plan] of Object.entries(cfg.plans)) {
    const max = requestMax(name, plan);
    // Canaries get mirrored copies of the plan's requests: their nodes must take them too.
    const models = new Set([plan.primary, plan.fallback, ...cfg.canaries.filter((c) => c.plans.length === 0 || c.plans.includes(name)).map((c) => c.canary)]);
    for (const region of cfg.regions) {
      for (const node of region.nodes) {
        const reached = node.models.filter((m) => models.has(m));
        const accepts = node.max_text_chars ?? NODE_DEFAULT_MAX_TEXT_CHARS;
        if (reached.length > 0 && accepts < max) {
          problems.push(
            `plan ${name} sends up to ${max} characters per node request, but node ${node.id} (serving ${reached.join(', ')}) accepts ${accepts}: lower the plan's max_text_chars or raise the node's (regions[].nodes[].max_text_chars, and the runtime's own max_text_chars)`,
          );
        }
      }
    }
  }
  return problems;
}
