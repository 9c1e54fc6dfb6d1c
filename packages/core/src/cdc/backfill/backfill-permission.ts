import type { EventContract } from '../../contracts/define-event.js';
import { SluiceError } from '../../errors.js';
import { type ChangeMapping, declaredContracts } from '../change-mapping.js';
import type { BackfillOrder, Snapshotter } from './snapshotter.js';

/** What is known about the events a source's tables feed, to decide whether a backfill may be requested. */
export interface BackfillPermissionSources {
  /**
   * Change mappings; those declared with `defineChangeMapping` say exactly which contracts a table feeds, and
   * only those contracts are checked.
   */
  readonly mappings?: readonly ChangeMapping[];
  /**
   * Contracts known to the caller. Used when no mapping declares the table: then the table may feed any of them,
   * so one that forbids backfills refuses the request (what cannot be known is not allowed).
   */
  readonly contracts?: readonly EventContract[];
}

/** The contracts a backfill of `schema.table` may feed, and whether a mapping declares them. */
export function contractsFedBy(
  order: Pick<BackfillOrder, 'schema' | 'table'>,
  known: BackfillPermissionSources,
): { readonly contracts: readonly EventContract[]; readonly declared: boolean } {
  const declared = (known.mappings ?? []).map((m) => declaredContracts(m, order.schema, order.table));
  if (declared.some((d) => d !== undefined)) {
    return { contracts: [...new Set(declared.flatMap((d) => d ?? []))], declared: true };
  }
  return { contracts: known.contracts ?? [], declared: false };
}

/**
 * Throws `SLUICE_BACKFILL_FORBIDDEN` when a backfill of the order's table would feed a contract that forbids
 * backfills (`backfill: false`), naming the contracts and the way out. Nothing known, nothing refused.
 */
export function assertBackfillAllowed(
  order: Pick<BackfillOrder, 'schema' | 'table'>,
  known: BackfillPermissionSources,
): void {
  const table = `${order.schema}.${order.table}`;
  const { contracts, declared } = contractsFedBy(order, known);
  const forbidding = contracts.filter((c) => !c.backfill);
  if (forbidding.length === 0) return;
  const names = forbidding.map((c) => `${c.type} v${c.version}`).join(', ');
  throw new SluiceError(
    'SLUICE_BACKFILL_FORBIDDEN',
    declared
      ? `backfill of ${table} refused: its rows map to ${names}, whose contract forbids backfills (backfill: false). Its consumers must not be sent the table's current state again; if they need it, the producing team allows it in the contract (backfill: true)`
      : `backfill of ${table} refused: no change mapping declares which contracts ${table} feeds, and ${names} among the contracts given forbid backfills (backfill: false). Declare the table's contracts with defineChangeMapping({ tables: { '${table}': [...] }, map }) and export the mapping from the contracts module, so that only the table's own contracts are checked`,
  );
}

/**
 * Records a backfill request through the snapshotter, after {@link assertBackfillAllowed}: the way an
 * application (or `sluice backfill --contracts`) asks for one when it knows the source's contracts.
 */
export async function requestBackfill(
  snapshotter: Pick<Snapshotter, 'request'>,
  order: BackfillOrder,
  known: BackfillPermissionSources = {},
): Promise<string> {
  assertBackfillAllowed(order, known);
  return snapshotter.request(order);
}

/** The relay's refusal of a snapshot row mapped to a contract that forbids backfills. */
export function snapshotForbidden(where: string, contract: EventContract): SluiceError {
  return new SluiceError(
    'SLUICE_BACKFILL_FORBIDDEN',
    `the ${where} is a backfill's snapshot row, and it mapped to ${contract.type} v${contract.version}, whose contract forbids backfills (backfill: false). The relay stops rather than publish it: cancel the backfill (\`sluice backfill --list\`, then \`--cancel ID\`) and restart, or map snapshot rows only to contracts that allow backfills`,
  );
}
