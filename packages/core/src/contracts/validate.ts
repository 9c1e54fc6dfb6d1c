import type { StandardSchemaV1 } from '@standard-schema/spec';
import { type ContractIssue, ContractViolationError, SluiceError } from '../errors.js';
import type { FieldClassification } from './contract-guarantees.js';
import { classificationAt } from './mask-classified.js';

/**
 * Runs a Standard Schema validator synchronously. Sluice validates inside the caller's database transaction,
 * which for SQLite is synchronous, so asynchronous refinements are refused with a clear error. The value
 * received at a field the `classification` marks is not rendered in the error (its message reaches logs and
 * dead letters): only its JSON type and the classification.
 */
export function validateSync<Out>(
  schema: StandardSchemaV1<unknown, Out>,
  value: unknown,
  eventType: string,
  version: number,
  when: 'append' | 'consume',
  classification: Readonly<Record<string, FieldClassification>> = {},
): Out {
  const result = schema['~standard'].validate(value);
  if (result instanceof Promise) {
    throw new SluiceError(
      'SLUICE_ASYNC_SCHEMA',
      `the schema of ${eventType} v${version} validates asynchronously; Sluice validates inside the caller's transaction and needs a synchronous schema (remove async refinements)`,
    );
  }
  if (result.issues) {
    throw new ContractViolationError(
      eventType,
      version,
      result.issues.map((i) => toIssue(i, value, classification)),
      when,
    );
  }
  return result.value;
}

function toIssue(
  issue: StandardSchemaV1.Issue,
  root: unknown,
  classification: Readonly<Record<string, FieldClassification>>,
): ContractIssue {
  const segments = (issue.path ?? []).map((p) => (typeof p === 'object' && p !== null ? p.key : p));
  const path = segments.length === 0 ? '(root)' : segments.map(String).join('.');
  let at: unknown = root;
  let found = true;
  for (const s of segments) {
    if (at !== null && typeof at === 'object' && (s as PropertyKey) in (at as object)) {
      at = (at as Record<PropertyKey, unknown>)[s as PropertyKey];
    } else {
      found = false;
      break;
    }
  }
  const { expected: vendorExpected, format } = issue as { expected?: unknown; format?: unknown };
  return {
    path,
    expected:
      typeof vendorExpected === 'string'
        ? vendorExpected
        : typeof format === 'string'
          ? `string (${format})`
          : issue.message,
    received: found
      ? describeClassified(at, classificationAt(classification, segments))
      : 'nothing (field missing)',
    message: issue.message,
  };
}

/** {@link describe}, or only the JSON type of a classified value: `string (personal, not shown)`. */
function describeClassified(value: unknown, classification: FieldClassification | undefined): string {
  if (classification === undefined || value === null || value === undefined) return describe(value);
  return `${Array.isArray(value) ? 'array' : typeof value} (${classification}, not shown)`;
}

/** `string "abc"`, `number 3`, `object {...}`: the JSON type and a short rendering. */
export function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  const type = Array.isArray(value) ? 'array' : typeof value;
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  if (text.length > 60) text = `${text.slice(0, 57)}...`;
  return `${type} ${text}`;
}
