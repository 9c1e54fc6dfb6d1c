import { ContractRegistryError, SluiceError } from '../../errors.js';
import type { EventContract } from '../define-event.js';
import type { KeyType } from '../define-key.js';
import { standardJsonSchema } from '../json-schema.js';
import { dataFields } from './data-fields.js';
import { fieldCarriesKey, keySchemaText, schemaDifference } from './key-shape.js';

type Json = Readonly<Record<string, unknown>>;

/**
 * Checks that a service's contracts agree on their shared keys (called by `createRegistry`):
 * - two contracts whose key has one name use one key definition: the same `KeyType` object, or two declarations
 *   with identical JSON Schemas and descriptions;
 * - a data field named like a key of the registry (e.g. `courseId` in an event keyed by `enrollmentId`) has that
 *   key's JSON Schema (or it or null). The contract's own key field is not compared: `checkEvent` validates it
 *   against the key type whatever the data schema says.
 * Fields are found in the data's JSON Schema; a contract whose validator has none is checked for its key only.
 * Throws `ContractRegistryError` `SLUICE_KEY_CONFLICT` naming both contracts, the key and the difference.
 */
export function checkRegistryKeys(contracts: readonly EventContract[]): void {
  const keys = new Map<string, { key: KeyType; by: EventContract }>();
  const keySchema = (key: KeyType) => jsonSchemaOrNull(key.schema, `key type ${key.name}`);
  for (const c of contracts) {
    const first = keys.get(c.key.name);
    if (first === undefined) keys.set(c.key.name, { key: c.key, by: c });
    else if (first.key !== c.key) sameKey(first.by, c, keySchema(first.key), keySchema(c.key));
  }
  for (const c of contracts) {
    const data = jsonSchemaOrNull(c.schema, `${c.type} v${c.version}`);
    if (data === null) continue;
    for (const field of dataFields(data)) {
      const declared = keys.get(field.name);
      if (declared === undefined || field.path === c.keyField) continue;
      const schema = keySchema(declared.key);
      if (schema === null || fieldCarriesKey(field.schema, schema)) continue;
      throw new ContractRegistryError(
        'SLUICE_KEY_CONFLICT',
        `field ${field.path} of ${name(c)} is named like the key ${field.name} (the key of ${name(declared.by)}) but has another shape (${schemaDifference(field.schema, schema, true)}, field vs key); give the field the key's schema (\`${field.name}: ${keyVariable(field.name)}.schema\`), or rename it if it is another identifier`,
      );
    }
  }
}

function sameKey(a: EventContract, b: EventContract, schemaA: Json | null, schemaB: Json | null): void {
  const key = a.key.name;
  const differences: string[] = [];
  if (schemaA === null || schemaB === null) {
    differences.push('their validators have no JSON Schema to compare');
  } else if (keySchemaText(schemaA) !== keySchemaText(schemaB)) {
    differences.push(`schemas differ (${schemaDifference(schemaA, schemaB)})`);
  }
  if (a.key.description !== b.key.description) {
    differences.push(
      `descriptions differ (${JSON.stringify(a.key.description)} vs ${JSON.stringify(b.key.description)})`,
    );
  }
  if (differences.length === 0) return;
  throw new ContractRegistryError(
    'SLUICE_KEY_CONFLICT',
    `${name(a)} and ${name(b)} both use the key ${key} but declare it differently: ${differences.join('; ')}; declare the key once with defineKey('${key}', …) and import it in both contracts`,
  );
}

/** JSON Schemas by validator object: a validator is immutable, and one process builds many registries of it. */
const jsonSchemas = new WeakMap<object, Json | null>();

function jsonSchemaOrNull(schema: unknown, what: string): Json | null {
  if (schema === null || typeof schema !== 'object') return null;
  const cached = jsonSchemas.get(schema);
  if (cached !== undefined) return cached;
  let json: Json | null;
  try {
    json = standardJsonSchema(schema, what);
  } catch (error) {
    if (!(error instanceof SluiceError && error.code === 'SLUICE_NO_JSON_SCHEMA')) throw error;
    json = null;
  }
  jsonSchemas.set(schema, json);
  return json;
}

const name = (c: EventContract) => `${c.type} v${c.version}`;
const keyVariable = (key: string) => key.charAt(0).toUpperCase() + key.slice(1);
