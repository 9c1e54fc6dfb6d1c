import type { SchemaChangeType } from './schema-change-type.js';

/** One difference between a writer's JSON Schema and a reader's, found by `diffSchemas`. */
export interface SchemaChange {
  /** JSON Pointer fragment into the schema, e.g. `#/properties/address/properties/zip`. */
  readonly path: string;
  /** Confluent Schema Registry's name for the change. */
  readonly change: SchemaChangeType;
  /** Whether the reader can still read every value the writer's schema allows there. */
  readonly compatible: boolean;
}

/** A JSON Schema document or sub-schema (draft 2020-12): an object, or `true` / `false`. */
export type JsonSchema = Readonly<Record<string, unknown>> | boolean;
