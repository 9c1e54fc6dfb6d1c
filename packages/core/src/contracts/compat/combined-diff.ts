import type { DiffContext } from './diff-context.js';
import { compareSchemas } from './diff-schemas.js';
import type { JsonSchema, SchemaChange } from './schema-change.js';
import { criterionOf, type SchemaObject } from './schema-node.js';

/**
 * Two combined schemas (anyOf / oneOf / allOf), as Confluent's CombinedSchemaDiff: the criterion may widen
 * (to anyOf, or between singletons: COMBINED_TYPE_EXTENDED) but not otherwise change; more or fewer
 * sub-schemas is a SUM or PRODUCT change; then each writer's sub-schema must have its own compatible
 * reader's sub-schema (a maximum matching), else COMBINED_TYPE_SUBSCHEMAS_CHANGED.
 */
export function compareCombined(ctx: DiffContext, o: SchemaObject, u: SchemaObject): void {
  const oc = criterionOf(o) as 'anyOf' | 'oneOf' | 'allOf';
  const uc = criterionOf(u) as 'anyOf' | 'oneOf' | 'allOf';
  const oSubs = distinct(o[oc] as JsonSchema[]);
  const uSubs = distinct(u[uc] as JsonSchema[]);
  if (oc !== uc) {
    const extended =
      uc === 'anyOf' ||
      (oSubs.length === 1 && uSubs.length === 1) ||
      (oSubs.length === 1 && uc === 'oneOf') ||
      (uSubs.length === 1 && oc === 'allOf');
    if (!extended) {
      ctx.add('COMBINED_TYPE_CHANGED');
      return;
    }
    ctx.add('COMBINED_TYPE_EXTENDED');
  }
  if (oSubs.length < uSubs.length) ctx.add(uc === 'allOf' ? 'PRODUCT_TYPE_EXTENDED' : 'SUM_TYPE_EXTENDED');
  else if (oSubs.length > uSubs.length)
    ctx.add(oc === 'allOf' ? 'PRODUCT_TYPE_NARROWED' : 'SUM_TYPE_NARROWED');
  // edges[i][j]: the changes when writer's sub-schema i is read as reader's sub-schema j, if compatible.
  const edges: (SchemaChange[] | undefined)[][] = oSubs.map((os, i) =>
    uSubs.map((us) => {
      const trial = ctx.at(oc, i).trial();
      compareSchemas(trial, os, us);
      return trial.isCompatible() ? trial.changes : undefined;
    }),
  );
  const match = maximumMatching(edges, uSubs.length);
  for (const [i, j] of match) ctx.addAll(edges[i]?.[j] ?? []);
  if (match.length < Math.min(oSubs.length, uSubs.length)) ctx.add('COMBINED_TYPE_SUBSCHEMAS_CHANGED');
}

function distinct(subs: JsonSchema[]): JsonSchema[] {
  const seen = new Set<string>();
  return subs.filter((s) => {
    const key = JSON.stringify(s);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Maximum bipartite matching (augmenting paths): pairs [writer index, reader index]. */
function maximumMatching(edges: (unknown | undefined)[][], right: number): [number, number][] {
  const owner: number[] = new Array(right).fill(-1);
  const augment = (i: number, seen: boolean[]): boolean => {
    for (let j = 0; j < right; j++) {
      if (edges[i]?.[j] === undefined || seen[j]) continue;
      seen[j] = true;
      if ((owner[j] as number) < 0 || augment(owner[j] as number, seen)) {
        owner[j] = i;
        return true;
      }
    }
    return false;
  };
  for (let i = 0; i < edges.length; i++) augment(i, new Array(right).fill(false));
  return owner.flatMap((i, j) => (i >= 0 ? [[i, j] as [number, number]] : []));
}
