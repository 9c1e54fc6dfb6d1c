import type { StandardJSONSchemaV1 } from '@standard-schema/spec';
import { SluiceError } from '../errors.js';
import type { EventContract } from './define-event.js';

/**
 * The JSON Schema (draft 2020-12) of a contract's data, with Sluice's metadata under `x-sluice`. Uses the
 * validator's Standard JSON Schema support (zod 4 has it natively).
 */
export function toJsonSchema(contract: EventContract): Record<string, unknown> {
  const std = (contract.schema as unknown as Partial<StandardJSONSchemaV1>)['~standard'];
  if (!std || typeof std.jsonSchema?.input !== 'function') {
    throw new SluiceError(
      'SLUICE_NO_JSON_SCHEMA',
      `cannot export JSON Schema for ${contract.type} v${contract.version}: its validator (${contract.schema['~standard'].vendor}) does not implement Standard JSON Schema; use zod 4 or another validator that does`,
    );
  }
  let body: Record<string, unknown>;
  try {
    body = std.jsonSchema.input({ target: 'draft-2020-12' });
  } catch (cause) {
    throw new SluiceError(
      'SLUICE_NO_JSON_SCHEMA',
      `cannot export JSON Schema for ${contract.type} v${contract.version}: ${cause instanceof Error ? cause.message : String(cause)}; use types JSON can represent (e.g. an ISO string instead of a Date)`,
      { cause },
    );
  }
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
