import type { StandardSchemaV1 } from '@standard-schema/spec';
import { InvalidOptionError } from '../errors.js';
import { COMPATIBILITY_MODES, type CompatibilityMode } from './compatibility-mode.js';
import type { Deprecation, FieldClassification } from './contract-guarantees.js';
import type { KeyType } from './define-key.js';
import type { TopicSpec } from './define-topic.js';
import { validateSync } from './validate.js';

/**
 * An event contract: the public, versioned shape of one kind of event. It is never the internal table model;
 * it is what the producing team promises consumers. A breaking change is a new major `version`.
 */
export interface EventContract<
  Type extends string = string,
  Data extends Record<string, unknown> = Record<string, unknown>,
  Input = unknown,
> {
  readonly kind: 'sluice.event';
  /** Dotted lower-case name, e.g. `enrollment.created`. Becomes the CloudEvents `type`. */
  readonly type: Type;
  /** Major version; a new major version is a new contract. */
  readonly version: number;
  /** The shared key type the event is about; its value is the CloudEvents `subject` and the partition key. */
  readonly key: KeyType;
  /** Field of the data that carries the key (defaults to the key type's name). */
  readonly keyField: string;
  readonly schema: StandardSchemaV1<Input, Data>;
  readonly topic: TopicSpec;
  readonly description: string;
  /** CloudEvents `dataschema`: identifies the contract and its version. */
  readonly dataschema: string;
  /** How this version's schema may change while it is locked (`sluice contracts check`). Default `BACKWARD`. */
  readonly compatibility: CompatibilityMode;
  /** Set when the version is deprecated: `sluice contracts check` warns while it is still produced. */
  readonly deprecated?: Deprecation;
  /** Classified fields of the data, by dotted path (e.g. `email`, `address.street`). */
  readonly classification: Readonly<Record<string, FieldClassification>>;
  /** Whether consumers may request a backfill of this event's source (default true). */
  readonly backfill: boolean;
}

/** The data type a contract's handlers receive. */
export type EventData<C> = C extends EventContract<string, infer D, unknown> ? D : never;
/** The data type a producer passes to `append` (before defaults and transforms). */
export type EventInput<C> = C extends EventContract<string, Record<string, unknown>, infer I> ? I : never;

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const TYPE_NAME = /^[a-z][a-z0-9]*(?:[._-][a-z0-9]+)+$/;

export function defineEvent<
  Type extends string,
  Schema extends StandardSchemaV1<unknown, Record<string, unknown>>,
>(options: {
  type: Type;
  version: number;
  key: KeyType;
  keyField?: string;
  schema: Schema;
  topic: TopicSpec;
  description: string;
  dataschema?: string;
  compatibility?: CompatibilityMode;
  deprecated?: Deprecation;
  classification?: Readonly<Record<string, FieldClassification>>;
  backfill?: boolean;
}): EventContract<Type, StandardSchemaV1.InferOutput<Schema>, StandardSchemaV1.InferInput<Schema>> {
  const { type, version, key, schema, topic, description } = options;
  const where = `defineEvent(${JSON.stringify(type)})`;
  if (typeof type !== 'string' || !TYPE_NAME.test(type)) {
    throw new InvalidOptionError(where, 'type', 'must be dotted lower-case words, e.g. "enrollment.created"');
  }
  if (!Number.isInteger(version) || version < 1) {
    throw new InvalidOptionError(where, 'version', `must be a positive integer, got ${String(version)}`);
  }
  if (key?.kind !== 'sluice.key')
    throw new InvalidOptionError(where, 'key', 'must be a key type from defineKey()');
  if (!schema || !('~standard' in schema)) {
    throw new InvalidOptionError(where, 'schema', 'must be a Standard Schema validator (e.g. a zod schema)');
  }
  if (!topic?.name) throw new InvalidOptionError(where, 'topic', 'must be a topic from defineTopic()');
  if (typeof description !== 'string' || !description.trim())
    throw new InvalidOptionError(where, 'description', 'is required');
  if (options.compatibility !== undefined && !COMPATIBILITY_MODES.includes(options.compatibility)) {
    throw new InvalidOptionError(where, 'compatibility', `must be one of ${COMPATIBILITY_MODES.join(', ')}`);
  }
  const dep = options.deprecated;
  if (dep !== undefined && (typeof dep?.since !== 'string' || !ISO_DATE.test(dep.since))) {
    throw new InvalidOptionError(where, 'deprecated.since', 'must be an ISO date, e.g. "2027-01-31"');
  }
  for (const [path, c] of Object.entries(options.classification ?? {})) {
    if (c !== 'personal' && c !== 'secret') {
      throw new InvalidOptionError(where, `classification.${path}`, 'must be "personal" or "secret"');
    }
    // The key is the CloudEvents subject and the partition key: shown by every tool and log, never masked.
    if (path === (options.keyField ?? key.name)) {
      throw new InvalidOptionError(
        where,
        `classification.${path}`,
        'cannot classify the key field: the key is the subject and partition key, shown everywhere; key by an opaque id instead',
      );
    }
  }
  return Object.freeze({
    kind: 'sluice.event',
    type,
    version,
    key,
    keyField: options.keyField ?? key.name,
    schema: schema as StandardSchemaV1<
      StandardSchemaV1.InferInput<Schema>,
      StandardSchemaV1.InferOutput<Schema>
    >,
    topic,
    description,
    dataschema: options.dataschema ?? `urn:sluice:contract:${type}:v${version}`,
    compatibility: options.compatibility ?? 'BACKWARD',
    ...(options.deprecated === undefined ? {} : { deprecated: Object.freeze({ ...options.deprecated }) }),
    classification: Object.freeze({ ...(options.classification ?? {}) }),
    backfill: options.backfill ?? true,
  });
}

/**
 * Validates event data against its contract and returns the parsed data and its key. Throws
 * `ContractViolationError` naming the event type, version, field path, expected shape and received value.
 */
export function checkEvent<C extends EventContract>(
  contract: C,
  data: unknown,
  when: 'append' | 'consume',
): { data: EventData<C>; key: string } {
  const { classification } = contract;
  const parsed = validateSync(contract.schema, data, contract.type, contract.version, when, classification);
  // The key must also satisfy the shared key type, so it means the same thing in every contract.
  const key = validateSync(
    keyFieldSchema(contract),
    parsed,
    contract.type,
    contract.version,
    when,
    classification,
  );
  return { data: parsed as EventData<C>, key };
}

const keySchemas = new WeakMap<EventContract, StandardSchemaV1<unknown, string>>();

/** A schema that checks `data[keyField]` against the key type and reports issues at that field (cached). */
function keyFieldSchema(contract: EventContract): StandardSchemaV1<unknown, string> {
  let schema = keySchemas.get(contract);
  if (!schema) {
    schema = buildKeyFieldSchema(contract);
    keySchemas.set(contract, schema);
  }
  return schema;
}

function buildKeyFieldSchema(contract: EventContract): StandardSchemaV1<unknown, string> {
  const field = contract.keyField;
  return {
    '~standard': {
      version: 1,
      vendor: 'sluice',
      validate: (data) => {
        const value = (data as Record<string, unknown>)[field];
        const r = contract.key.schema['~standard'].validate(value);
        if (r instanceof Promise)
          return r.then(() => ({ issues: [{ message: 'async key schema', path: [field] }] }));
        if (r.issues) return { issues: r.issues.map((i) => ({ ...i, path: [field, ...(i.path ?? [])] })) };
        if (typeof r.value !== 'string' && typeof r.value !== 'number') {
          return {
            issues: [
              { message: `key type ${contract.key.name} must produce a string or number`, path: [field] },
            ],
          };
        }
        return { value: String(r.value) };
      },
    },
  };
}
