import type { StandardSchemaV1 } from '@standard-schema/spec';
import { InvalidOptionError } from '../errors.js';

/**
 * A key type: one shared identifier (a course id, a student id) declared once and used by every contract whose
 * events are about it. The same key name means the same identifier in every event, so consumers can join events
 * from different topics locally.
 */
export interface KeyType<Name extends string = string, Value extends string | number = string | number> {
  readonly kind: 'sluice.key';
  /** The key's name; also the default name of the field that carries it in event data. */
  readonly name: Name;
  /** Validates a key value. */
  readonly schema: StandardSchemaV1<unknown, Value>;
  /** What the identifier means, in words a consumer's author understands. */
  readonly description: string;
}

const KEY_NAME = /^[a-z][A-Za-z0-9]*$/;

/** Declares a key type. `name` is camelCase, e.g. `courseId`. */
export function defineKey<Name extends string, Value extends string | number>(
  name: Name,
  schema: StandardSchemaV1<unknown, Value>,
  options: { description: string },
): KeyType<Name, Value> {
  if (!KEY_NAME.test(name)) {
    throw new InvalidOptionError(
      'defineKey',
      'name',
      `must be camelCase letters and digits, got ${JSON.stringify(name)}`,
    );
  }
  if (!schema || typeof schema !== 'object' || !('~standard' in schema)) {
    throw new InvalidOptionError(
      'defineKey',
      'schema',
      'must be a Standard Schema validator (e.g. a zod schema)',
    );
  }
  if (typeof options?.description !== 'string' || !options.description.trim()) {
    throw new InvalidOptionError('defineKey', 'description', 'is required: say what the identifier means');
  }
  return Object.freeze({ kind: 'sluice.key', name, schema, description: options.description });
}
