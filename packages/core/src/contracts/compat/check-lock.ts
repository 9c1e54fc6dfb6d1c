import { fingerprintOf } from '../lock/build-lock.js';
import { canonicalJson } from '../lock/canonical-json.js';
import type { ContractsLock, LockedContract } from '../lock/contracts-lock.js';
import { checkCompatibility } from './check-compatibility.js';
import { diffSchemas } from './diff-schemas.js';
import { describeChange } from './schema-change-type.js';

/** One finding of `sluice contracts check`: an error fails the check, a warning does not. */
export interface LockFinding {
  readonly severity: 'error' | 'warning';
  readonly type: string;
  readonly version: number;
  /** The field path (JSON Pointer fragment into the data's schema) or the locked field (`key`, `topic`). */
  readonly path?: string;
  /** What changed; which side it breaks; what to do. */
  readonly message: string;
}

/**
 * Compares the code's contract versions (`code`, each as `lockContract` gives it) with the lock:
 * - a locked version is immutable: any change (fingerprint differs) is an error naming what changed;
 * - a version not in the lock is an error (lock it);
 * - a locked version missing from the code is an error unless it was deprecated;
 * - a deprecated version still in the code is a warning;
 * - each version is checked against the earlier versions of its type under its own compatibility mode.
 */
export function checkLock(lock: ContractsLock, code: readonly LockedContract[]): LockFinding[] {
  const findings: LockFinding[] = [];
  const locked = new Map(lock.contracts.map((c) => [`${c.type}@${c.version}`, c]));
  const inCode = new Set(code.map((c) => `${c.type}@${c.version}`));
  for (const c of code) {
    const was = locked.get(`${c.type}@${c.version}`);
    if (was === undefined) {
      findings.push({
        severity: 'error',
        type: c.type,
        version: c.version,
        message: 'not locked: run `sluice contracts lock` and commit contracts.lock.json',
      });
    } else if (!matchesLocked(was, c)) {
      findings.push(...editOf(was, c));
    }
    if (c.deprecated !== undefined) {
      findings.push({
        severity: 'warning',
        type: c.type,
        version: c.version,
        message: `v${c.version} deprecated since ${c.deprecated.since}, still produced${c.deprecated.replacedBy === undefined ? '' : `: move producers to v${c.deprecated.replacedBy}`}`,
      });
    }
  }
  for (const c of lock.contracts) {
    if (inCode.has(`${c.type}@${c.version}`) || c.deprecated !== undefined) continue;
    findings.push({
      severity: 'error',
      type: c.type,
      version: c.version,
      message: `locked but no longer in the code: removing a live version breaks its consumers; restore it, mark it deprecated (deprecated: { since }) and lock, then remove it once nobody consumes it`,
    });
  }
  findings.push(...checkVersions(lock, code));
  return findings;
}

/**
 * Whether the code's version is the locked one. The locked entry's content is compared too (not only its
 * stored fingerprint), so a hand-edited lock file is caught: the same JSON text first (cheap: both are written
 * in `lockContract`'s key order), else the locked entry's fingerprint recomputed.
 */
export function matchesLocked(was: LockedContract, now: LockedContract): boolean {
  if (was.fingerprint !== now.fingerprint) return false;
  const { fingerprint: _a, ...a } = was;
  const { fingerprint: _b, ...b } = now;
  return JSON.stringify(a) === JSON.stringify(b) || fingerprintOf(was) === now.fingerprint;
}

/** Errors naming what changed in a locked version, and whom each schema change breaks. */
export function editOf(was: LockedContract, now: LockedContract): LockFinding[] {
  const base = { severity: 'error' as const, type: now.type, version: now.version };
  const todo = `version ${now.version} is locked: revert it, or add version ${now.version + 1}`;
  const out: LockFinding[] = [];
  const locked = 'the locked schema';
  const edited = 'the edited schema';
  // BACKWARD: the edited schema reads events written under the locked one; FORWARD: the reverse.
  const sides = [
    [
      diffSchemas(was.schema, now.schema),
      locked,
      edited,
      'consumers built on the edit reading events already written',
    ],
    [
      diffSchemas(now.schema, was.schema),
      edited,
      locked,
      'consumers of the locked version reading new events',
    ],
  ] as const;
  for (const [changes, writer, reader, breaks] of sides) {
    for (const c of changes.filter((c) => !c.compatible)) {
      out.push({
        ...base,
        path: c.path,
        message: `${describeChange(c.change, writer, reader)} (${c.change}); breaks ${breaks}; ${todo}`,
      });
    }
  }
  if (out.length === 0) {
    for (const c of sides[0][0]) {
      out.push({
        ...base,
        path: c.path,
        message: `${describeChange(c.change, locked, edited)} (${c.change}, compatible); ${todo}`,
      });
    }
  }
  const fields: [string, unknown, unknown][] = [
    ['key', was.key, now.key],
    ['topic', was.topic, now.topic],
    ['dataschema', was.dataschema, now.dataschema],
    ['description', was.description, now.description],
    ['compatibility', was.compatibility, now.compatibility],
    ['deprecated', was.deprecated, now.deprecated],
    ['classification', was.classification, now.classification],
    ['backfill', was.backfill, now.backfill],
  ];
  for (const [name, a, b] of fields) {
    if (canonicalJson(a) === canonicalJson(b)) continue;
    const breaks =
      name === 'key' || name === 'topic'
        ? '; breaks every consumer of this version (they partition and subscribe by it)'
        : '';
    out.push({
      ...base,
      path: name,
      message: `${name} changed from ${canonicalJson(a)} to ${canonicalJson(b)}${breaks}; ${todo}`,
    });
  }
  if (out.length === 0) out.push({ ...base, message: `changed since it was locked; ${todo}` });
  return out;
}

/**
 * Each version against the earlier ones of its type (the code's versions, and locked versions no longer in the
 * code), under the newer version's compatibility mode.
 */
export function checkVersions(lock: ContractsLock, code: readonly LockedContract[]): LockFinding[] {
  const byType = new Map<string, Map<number, LockedContract>>();
  for (const c of [...lock.contracts, ...code]) {
    let versions = byType.get(c.type);
    if (versions === undefined) {
      versions = new Map();
      byType.set(c.type, versions);
    }
    versions.set(c.version, c); // the code's version wins over the locked one
  }
  const out: LockFinding[] = [];
  for (const versions of byType.values()) {
    const sorted = [...versions.values()].sort((a, b) => a.version - b.version);
    for (let n = 1; n < sorted.length; n++) {
      const next = sorted[n] as LockedContract;
      const earlier = sorted.slice(0, n);
      for (const i of checkCompatibility(
        earlier.map((e) => e.schema),
        next.schema,
        next.compatibility,
      )) {
        const against = earlier[i.against]?.version;
        out.push({
          severity: 'error',
          type: next.type,
          version: next.version,
          path: i.path,
          message: `${i.message} (${i.change}, v${next.version} vs v${against}, ${next.compatibility}); breaks ${i.breaks}; make the change compatible, declare compatibility: 'NONE' with an upcaster for consumers, or use a new event type`,
        });
      }
    }
  }
  return out;
}
