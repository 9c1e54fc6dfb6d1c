import { SluiceError } from '@sluice/core';

/** better-sqlite3's extended result code (`SQLITE_BUSY`, `SQLITE_IOERR_WRITE`, …), if the error has one. */
export function sqliteCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/**
 * Whether `error` (or one of its causes) says another connection holds the lock a statement needed:
 * `SQLITE_BUSY`/`SQLITE_LOCKED`, or the `SLUICE_BUSY` Sluice made of one.
 */
export function isSqliteBusy(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = sqliteCode(e);
    if (code === 'SLUICE_BUSY' || code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
      return true;
  }
  return false;
}

/**
 * Turns a better-sqlite3 failure into the catalogue's code for it, the one classification of SQLite errors in
 * this package (the outbox, the inbox and the embedded log use it):
 * - another connection's lock not released within the busy timeout: `SLUICE_BUSY` (retryable);
 * - disk full or an I/O error: `SLUICE_DISK_ERROR` (retryable);
 * - a file that cannot be opened (missing directory, no permission): `SLUICE_DATABASE_ERROR` naming the path;
 * - anything else: `SLUICE_DATABASE_ERROR`.
 * `doing` says what failed ("publishing to the log"), `path` which file; `busyAdvice` what to do when busy.
 * A `SluiceError` passes through; the driver error is kept as `cause`.
 */
export function toSluiceError(
  cause: unknown,
  doing: string,
  path: string,
  busyAdvice = 'retry, or raise busyTimeoutMs',
): SluiceError {
  if (cause instanceof SluiceError) return cause;
  const code = sqliteCode(cause);
  const detail = cause instanceof Error ? cause.message : String(cause);
  if (isSqliteBusy(cause)) {
    return new SluiceError(
      'SLUICE_BUSY',
      `${doing} waited too long for another process's lock on ${path} (${detail}); ${busyAdvice}`,
      { cause },
    );
  }
  if (code.startsWith('SQLITE_IOERR') || code === 'SQLITE_FULL') {
    return new SluiceError(
      'SLUICE_DISK_ERROR',
      `${doing} failed to write ${path} (${detail}); check free disk space and permissions, then retry`,
      { cause },
    );
  }
  if (code.startsWith('SQLITE_CANTOPEN') || /directory does not exist/i.test(detail)) {
    return new SluiceError(
      'SLUICE_DATABASE_ERROR',
      `${doing}: cannot open the SQLite file ${path} (${detail}): its directory does not exist or is not writable; create the directory or pass another path`,
      { cause },
    );
  }
  return new SluiceError('SLUICE_DATABASE_ERROR', `${doing} failed on ${path}: ${detail}`, { cause });
}
