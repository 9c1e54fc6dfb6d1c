import { InvalidOptionError } from '@sluice/core';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** PostgreSQL truncates identifiers longer than this (NAMEDATALEN - 1). */
const MAX_IDENTIFIER_BYTES = 63;

/**
 * Checks that `value` can name a schema or a `LISTEN` channel: letters, digits and `_`, not starting with a digit,
 * at most 63 bytes. Sluice always double-quotes it, so the case is kept as given.
 */
export function checkIdentifier(component: string, field: string, value: unknown): string {
  if (typeof value !== 'string' || !IDENTIFIER.test(value) || value.length > MAX_IDENTIFIER_BYTES) {
    throw new InvalidOptionError(
      component,
      field,
      `must be a PostgreSQL identifier (letters, digits and _, not starting with a digit, at most ${MAX_IDENTIFIER_BYTES} characters), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** `"name"`: a checked identifier, quoted for SQL text. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `'text'`: a string literal for SQL text (only for checked identifiers inside DO blocks). */
export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
