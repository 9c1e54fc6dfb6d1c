import type { CompatibilityMode } from '../compatibility-mode.js';
import type { Deprecation, FieldClassification } from '../contract-guarantees.js';
import type { TopicKind } from '../define-topic.js';

/**
 * `contracts.lock.json`: what a service promised its consumers, committed with its code. Written by
 * `sluice contracts lock`, compared with the code by `sluice contracts check`, and read by other services'
 * checks (`--with`) and `sluice contracts keys`. Entries are sorted by type then version; JSON Schemas are
 * draft 2020-12 as `toJsonSchema` writes them (without `x-sluice`, which the other fields carry).
 */
export interface ContractsLock {
  readonly lockVersion: 1;
  /** The service that produces these contracts (the outbox's `source`, e.g. `urn:service:enrollments`), if known. */
  readonly service?: string;
  readonly contracts: readonly LockedContract[];
}

/** One contract version as locked. */
export interface LockedContract {
  readonly type: string;
  readonly version: number;
  readonly dataschema: string;
  readonly description: string;
  /** The data's JSON Schema (draft 2020-12). */
  readonly schema: Readonly<Record<string, unknown>>;
  readonly key: LockedKey;
  readonly topic: {
    readonly name: string;
    readonly kind: TopicKind;
    readonly partitions: number;
    readonly retentionMs?: number;
  };
  readonly compatibility: CompatibilityMode;
  readonly deprecated?: Deprecation;
  readonly classification: Readonly<Record<string, FieldClassification>>;
  readonly backfill: boolean;
  /** SHA-256 (hex) of the canonical JSON of every other field: a locked version whose fingerprint changes was edited. */
  readonly fingerprint: string;
}

/** A key type as locked: what it means and the JSON Schema of its values. */
export interface LockedKey {
  readonly name: string;
  /** The data field that carries it in this contract. */
  readonly field: string;
  readonly description: string;
  /** JSON Schema of the key's values (draft 2020-12). */
  readonly schema: Readonly<Record<string, unknown>>;
}
