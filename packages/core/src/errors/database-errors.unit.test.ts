import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DatabaseErrorKind, databaseErrors } from './database-errors.js';
import { SluiceError } from './sluice-error.js';

const errors = databaseErrors({
  database: 'TestDB',
  classify: (error) => (error as { kind: DatabaseErrorKind }).kind,
  describe: (error) => `driver said ${(error as { kind: string }).kind}`,
  busy: 'a deadlock',
  otherAdvice: 'the server log',
});
const driverError = (kind: DatabaseErrorKind) => Object.assign(new Error(kind), { kind });

describe('databaseErrors', () => {
  it('turns each kind of driver error into its catalogue code, keeping the driver error as cause', () => {
    const cases: [DatabaseErrorKind, string][] = [
      ['missing-relation', 'SLUICE_MIGRATION_REQUIRED'],
      ['auth', 'SLUICE_DATABASE_AUTH_FAILED'],
      ['unavailable', 'SLUICE_DATABASE_UNAVAILABLE'],
      ['busy', 'SLUICE_BUSY'],
      ['other', 'SLUICE_DATABASE_ERROR'],
    ];
    for (const [kind, code] of cases) {
      const cause = driverError(kind);
      const error = errors.toSluiceError(
        cause,
        'reading the outbox',
        'outbox table sluice_outbox is missing',
      );
      assert.equal(error.code, code, kind);
      assert.equal(error.cause, cause, kind);
    }
    assert.match(
      errors.toSluiceError(driverError('busy'), 'acking', 'x').message,
      /acking failed: .*a deadlock/,
    );
    assert.equal(errors.toSluiceError(driverError('busy'), 'acking', 'x').retryable, true);
    assert.equal(errors.toSluiceError(driverError('other'), 'acking', 'x').retryable, false);
  });

  it('passes a SluiceError through unchanged', () => {
    const own = new SluiceError('SLUICE_CLOSED', 'closed');
    assert.equal(errors.toSluiceError(own, 'x', 'y'), own);
  });

  it('reports connection failures naming the place, and nothing for other errors', () => {
    const where = 'postgres://app:***@db:5432/app';
    const auth = errors.connectionError(driverError('auth'), where);
    assert.equal(auth?.code, 'SLUICE_DATABASE_AUTH_FAILED');
    assert.match(
      auth?.message ?? '',
      /cannot connect to postgres:\/\/app:\*\*\*@db:5432\/app: the server refused/,
    );
    assert.equal(
      errors.connectionError(driverError('unavailable'), where)?.code,
      'SLUICE_DATABASE_UNAVAILABLE',
    );
    assert.match(
      errors.connectionError(driverError('unavailable'), where)?.message ?? '',
      /check that TestDB runs/,
    );
    assert.equal(errors.connectionError(driverError('busy'), where), undefined);
    // A Sluice error wrapping a refused connection is reported by its cause, with the place.
    const wrapped = new SluiceError('SLUICE_DATABASE_UNAVAILABLE', 'lost', { cause: driverError('auth') });
    assert.equal(errors.connectionError(wrapped, where)?.code, 'SLUICE_DATABASE_AUTH_FAILED');
  });
});
