import { userInfo } from 'node:os';
import { createRegistry, type EventContract, type FieldClassification, maskClassified } from '@sluice/core';
import { loadContracts } from '../context.js';
import type { OptionSpec, Resolved } from '../options.js';

/** `--contracts` for the commands that print events: what tells them which fields are classified. */
export const MASK_CONTRACTS_OPTION: OptionSpec = {
  name: 'contracts',
  type: 'string',
  description:
    "module (path or package) exporting the events' contracts: their classified fields are masked (personal as ***#hash, secret as ***). Without it the command cannot know which fields are classified and prints data as it is",
};
export const SHOW_PERSONAL_OPTION: OptionSpec = {
  name: 'show-personal',
  type: 'boolean',
  description:
    'show the fields classified personal (secret ones stay masked); writes an audit line (who, when) to stderr',
  default: false,
  env: '-',
};

/** An event as printed: its type, its contract version's `dataschema` and its data. */
interface PrintedEvent {
  readonly type: string;
  readonly dataschema?: string | undefined;
  readonly data?: unknown;
}

/** Masks the data of the events a command prints, by their contracts. */
export interface EventMasker {
  /** The event with its data masked; as it is when no contract of its type and version is known. */
  mask<E extends PrintedEvent>(event: E): E;
  /**
   * A stored value (a structured-mode CloudEvents JSON text) with its data masked. Unless personal fields are
   * shown, a value that is not such an event is withheld: its fields are unknown.
   */
  maskValue(value: string | null): string | null;
}

/** What a withheld value prints as. */
export const WITHHELD = '(not shown: not a CloudEvents JSON event, so its classified fields are unknown)';

/**
 * Loads `--contracts` (if given) and, with `--show-personal`, writes the audit line to stderr: showing personal
 * data is an action operators must be able to see afterwards. Events of a type the module does not declare are
 * printed as they are (their classification is unknown).
 */
export async function createEventMasker(options: Resolved, command: string): Promise<EventMasker> {
  const contracts = await loadContracts(options['contracts'] as string | undefined);
  const show = options['show-personal'] === true;
  if (show) {
    process.stderr.write(
      `sluice ${command}: AUDIT personal fields shown to ${whoAmI()} at ${new Date().toISOString()} (--show-personal)\n`,
    );
  }
  if (contracts.length === 0) return { mask: (event) => event, maskValue: (value) => value };
  const registry = createRegistry(contracts);
  const contractOf = (event: PrintedEvent): EventContract | undefined => {
    const exact = event.dataschema === undefined ? undefined : registry.byDataschema(event.dataschema);
    if (exact !== undefined) return exact;
    // No dataschema (or another one): the type's only version, or its strictest classification (all versions).
    const versions = registry.versionsOf(event.type);
    if (versions.length === 0) return undefined;
    const classification: Record<string, FieldClassification> = {};
    for (const c of versions) {
      for (const [path, k] of Object.entries(c.classification)) {
        if (classification[path] !== 'secret') classification[path] = k;
      }
    }
    return { ...versions[versions.length - 1]!, classification };
  };
  const mask = <E extends PrintedEvent>(event: E): E => {
    const contract = contractOf(event);
    if (contract === undefined || event.data === undefined) return event;
    const data = maskClassified(contract, event.data, show ? { show: 'personal' } : {});
    return data === event.data ? event : { ...event, data };
  };
  return {
    mask,
    maskValue(value) {
      if (value === null) return value;
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        return show ? value : WITHHELD;
      }
      if (parsed === null || typeof parsed !== 'object' || typeof (parsed as PrintedEvent).type !== 'string')
        return show ? value : WITHHELD;
      const masked = mask(parsed as PrintedEvent);
      return masked === parsed ? value : JSON.stringify(masked);
    },
  };
}

function whoAmI(): string {
  const user = process.env['USER'] ?? process.env['LOGNAME'];
  if (user) return user;
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? 'unknown'}`;
  }
}
