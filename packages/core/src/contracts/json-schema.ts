import type { StandardJSONSchemaV1 } from '@standard-schema/spec';
import { SluiceError } from '../errors.js';
import type { EventContract } from './define-event.js';

/**
 * The JSON Schema (draft 2020-12) of a contract's data, with Sluice's metadata under `x-sluice`. Uses the
 * validator's Standard JSON Schema support (zod 4 has it natively).
 */
export function toJsonSchema(contract: EventContract): Record<string, unknown> {
  const body = standardJsonSchema(contract.schema, `${contract.type} v${contract.version}`);
  return {
    ...body,
    $id: contract.dataschema,
    title: `${contract.type} v${contract.version}`,
    description: contract.description,
    'x-sluice': {
      type: contract.type,
      version: contract.version,
      key: { name: contract.key.name, field: contract.keyField, description: contract.key.description },
      topic: { name: contract.topic.name, kind: contract.topic.kind, partitions: contract.topic.partitions },
    },
  };
}

/**
 * The JSON Schema (draft 2020-12) of a Standard Schema validator's input, through its Standard JSON Schema
 * support, converted once per validator (the result is shared: do not change it); `what` names it in the error (`SLUICE_NO_JSON_SCHEMA`) when the validator has none or the schema uses
 * types JSON cannot represent.
 */
export function standardJsonSchema(schema: unknown, what: string): Record<string, unknown> {
  const cached = typeof schema === 'object' && schema !== null ? converted.get(schema) : undefined;
  if (cached !== undefined) return cached;
  const json = convert(schema, what);
  if (typeof schema === 'object' && schema !== null) converted.set(schema, json);
  return json;
}

/**
 * Schemas already converted, by validator object: a validator is immutable, and the lock, the registry's key
 * checks and the exports each ask for the same ones (converting is most of what `sluice contracts check` costs).
 * Callers share the returned object and must not change it.
 */
const converted = new WeakMap<object, Record<string, unknown>>();

function convert(schema: unknown, what: string): Record<string, unknown> {
  const std = (schema as Partial<StandardJSONSchemaV1> | null)?.['~standard'];
  if (!std || typeof std.jsonSchema?.input !== 'function') {
    const vendor =
      (schema as { '~standard'?: { vendor?: string } } | null)?.['~standard']?.vendor ?? 'unknown';
    throw new SluiceError(
      'SLUICE_NO_JSON_SCHEMA',
      `cannot export JSON Schema for ${what}: its validator (${vendor}) does not implement Standard JSON Schema; use zod 4 or another validator that does`,
    );
  }
  try {
    return std.jsonSchema.input({ target: 'draft-2020-12' });
  } catch (cause) {
    throw new SluiceError(
      'SLUICE_NO_JSON_SCHEMA',
      `cannot export JSON Schema for ${what}: ${cause instanceof Error ? cause.message : String(cause)}; use types JSON can represent (e.g. an ISO string instead of a Date)`,
      { cause },
    );
  }
}
