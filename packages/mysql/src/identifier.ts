import { InvalidOptionError } from '@sluice/core';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** MySQL's limit for database and table names. */
const MAX_IDENTIFIER_LENGTH = 64;

/**
 * Checks that `value` can name a database: letters, digits and `_`, not starting with a digit, at most 64
 * characters. Sluice always back-quotes it.
 */
export function checkIdentifier(component: string, field: string, value: unknown): string {
  if (typeof value !== 'string' || !IDENTIFIER.test(value) || value.length > MAX_IDENTIFIER_LENGTH) {
    throw new InvalidOptionError(
      component,
      field,
      `must be a MySQL identifier (letters, digits and _, not starting with a digit, at most ${MAX_IDENTIFIER_LENGTH} characters), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** `` `name` ``: a checked identifier, quoted for SQL text. */
export function quoteIdentifier(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}
