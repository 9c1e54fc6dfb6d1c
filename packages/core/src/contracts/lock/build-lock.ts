import { createHash } from 'node:crypto';
import type { EventContract } from '../define-event.js';
import { standardJsonSchema } from '../json-schema.js';
import { canonicalJson } from './canonical-json.js';
import type { ContractsLock, LockedContract } from './contracts-lock.js';

/**
 * The lock of `contracts` (what `sluice contracts lock` writes): each version with its data's JSON Schema, key
 * type, topic, compatibility mode and guarantees, sorted by type then version, each with its fingerprint.
 */
export function buildLock(
  contracts: Iterable<EventContract>,
  options: { service?: string } = {},
): ContractsLock {
  const locked = [...contracts].map(lockContract);
  locked.sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : a.version - b.version));
  return {
    lockVersion: 1,
    ...(options.service === undefined ? {} : { service: options.service }),
    contracts: locked,
  };
}

/** One contract version as the lock holds it. */
export function lockContract(c: EventContract): LockedContract {
  const what = `${c.type} v${c.version}`;
  const schema = standardJsonSchema(c.schema, what);
  const unfingerprinted: Omit<LockedContract, 'fingerprint'> = {
    type: c.type,
    version: c.version,
    dataschema: c.dataschema,
    description: c.description,
    schema,
    key: {
      name: c.key.name,
      field: c.keyField,
      description: c.key.description,
      schema: keyJsonSchema(c),
    },
    topic: {
      name: c.topic.name,
      kind: c.topic.kind,
      partitions: c.topic.partitions,
      ...(c.topic.retentionMs === undefined ? {} : { retentionMs: c.topic.retentionMs }),
    },
    compatibility: c.compatibility,
    ...(c.deprecated === undefined ? {} : { deprecated: c.deprecated }),
    classification: c.classification,
    backfill: c.backfill,
  };
  return { ...unfingerprinted, fingerprint: fingerprintOf(unfingerprinted) };
}

const keySchemas = new WeakMap<object, Record<string, unknown>>();

/** The key type's JSON Schema, converted once per key type (many contracts share one key). */
function keyJsonSchema(c: EventContract): Record<string, unknown> {
  let schema = keySchemas.get(c.key);
  if (schema === undefined) {
    schema = standardJsonSchema(c.key.schema, `key type ${c.key.name}`);
    keySchemas.set(c.key, schema);
  }
  return schema;
}

/** SHA-256 (hex) of the canonical JSON of a locked contract without its fingerprint. */
export function fingerprintOf(contract: Omit<LockedContract, 'fingerprint'> | LockedContract): string {
  const { fingerprint: _, ...rest } = contract as LockedContract;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}
