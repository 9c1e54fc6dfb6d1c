import { performance } from 'node:perf_hooks';
import {
  buildLock,
  type CompatibilityMode,
  checkLock,
  createRegistry,
  defineEvent,
  defineKey,
  defineTopic,
  type EventContract,
  lockContract,
} from '@sluice/core';
import { z } from 'zod';
import type { BenchResult } from '../report.js';

/**
 * `sluice contracts check` at scale: `types` event types × `versions` versions each (10-30 properties, nested
 * objects, arrays, enums, nullable fields; each version adds an optional field, widens a string and adds an
 * enum value: compatible under BACKWARD; half the types check BACKWARD_TRANSITIVE). Measures the check against
 * the committed lock (engine only, and with the code's JSON Schema generation, as the CLI does), beside
 * baselines from the same run: building the lock, and JSON.stringify of the same schemas.
 */
export async function contractsBench(types = 500, versions = 5, rounds = 5): Promise<BenchResult> {
  const contracts = generate(types, versions);
  const lock = buildLock(contracts);
  const code = lock.contracts;
  const findings = checkLock(lock, code);
  if (findings.length > 0) throw new Error(`the generated contracts do not pass: ${findings[0]?.message}`);

  // JSON Schemas are converted once per validator and kept (as in one CLI run): each round that converts gets
  // contracts generated afresh, untimed, so it pays the conversion as `sluice contracts check` does.
  const fresh = () => generate(types, versions);
  const buildMs = median(rounds, fresh, (cs) => buildLock(cs));
  const stringifyMs = median(
    rounds,
    () => code,
    (cs) => JSON.stringify(cs.map((c) => c.schema)),
  );
  const checkMs = median(
    rounds,
    () => code,
    (cs) => checkLock(lock, cs),
  );
  // What the CLI does: the registry (its shared-key checks convert the schemas), the code's lock entries, the check.
  const fullMs = median(rounds, fresh, (cs) => checkLock(lock, createRegistry(cs).all().map(lockContract)));
  const n = types * versions;
  const properties = code.reduce(
    (sum, c) => sum + Object.keys((c.schema['properties'] as object) ?? {}).length,
    0,
  );
  return {
    name: 'contracts-check',
    description: `sluice contracts check over ${types} contracts × ${versions} versions (${n} versions, ${properties} top-level properties) against their lock`,
    figures: {
      'check, engine only (ms)': checkMs,
      'check incl. registry and JSON Schema generation, as the CLI (ms)': fullMs,
      'versions checked per second (engine)': Math.round((n / checkMs) * 1000),
      'baseline: build the lock (ms)': buildMs,
      'baseline: JSON.stringify the schemas (ms)': stringifyMs,
      'check / build the lock': checkMs / buildMs,
    },
    notes: [
      `median of ${rounds} rounds; target: check < 2000 ms`,
      `every version is compared with its locked entry (fingerprint) and with the earlier versions of its type under its mode`,
    ],
  };
}

function median<T>(rounds: number, setup: () => T, fn: (input: T) => unknown): number {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const input = setup();
    const t0 = performance.now();
    fn(input);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

const FIELD_KINDS = [
  () => z.string().min(1).max(200),
  () => z.number().min(0),
  () => z.int(),
  () => z.boolean(),
  () => z.email(),
  () => z.iso.datetime(),
  () => z.string().nullable(),
  () => z.array(z.string().max(40)).max(20),
  () => z.enum(['a', 'b', 'c']),
  () =>
    z.object({
      street: z.string(),
      city: z.string(),
      zip: z.string().regex(/^\d{5}$/),
      country: z.string().length(2),
    }),
  () => z.array(z.object({ sku: z.string(), quantity: z.int().min(1), price: z.number().multipleOf(0.01) })),
  () => z.string().optional(),
];

/** Deterministic contracts: type i has 10-30 properties; version v adds what is described above. */
export function generateForProfile(types: number, versions: number): EventContract[] {
  return generate(types, versions);
}

function generate(types: number, versions: number): EventContract[] {
  const key = defineKey('entityId', z.string().min(1), { description: 'An entity' });
  const out: EventContract[] = [];
  for (let t = 0; t < types; t++) {
    const topic = defineTopic({ name: `topic-${t % 50}`, kind: 'event' });
    const width = 10 + ((t * 7) % 21);
    const mode: CompatibilityMode = t % 2 === 0 ? 'BACKWARD' : 'BACKWARD_TRANSITIVE';
    for (let v = 1; v <= versions; v++) {
      const shape: Record<string, z.ZodType> = { entityId: key.schema as z.ZodType };
      for (let p = 0; p < width; p++)
        shape[`field${p}`] = (FIELD_KINDS[(t + p) % FIELD_KINDS.length] as () => z.ZodType)();
      shape['label'] = z.string().max(50 + v * 10);
      shape['status'] = z.enum(['s0', ...Array.from({ length: v }, (_, i) => `s${i + 1}`)]);
      for (let a = 2; a <= v; a++) shape[`added${a}`] = z.string().optional();
      out.push(
        defineEvent({
          type: `domain${t % 40}.entity${t}.changed`,
          version: v,
          key,
          keyField: 'entityId',
          topic,
          description: `entity ${t} changed (v${v})`,
          schema: z.object(shape),
          compatibility: mode,
        }),
      );
    }
  }
  return out;
}
