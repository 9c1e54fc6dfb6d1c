/** A place in the binlog: a file name and a byte offset in it. */
export interface BinlogLocation {
  readonly file: string;
  readonly offset: number;
}

/** Anything that runs a query and resolves `[rows, fields]`, like a mysql2 promise connection. */
interface Queryable {
  query(sql: string): Promise<[unknown, unknown]>;
}

/**
 * Bytes of binlog after `from` up to the server's end, across files (`SHOW BINARY LOGS` sizes); null when
 * `from` is unknown or its file is no longer on the server.
 */
export async function binlogBytesAfter(
  db: Queryable,
  from: BinlogLocation | undefined,
): Promise<number | null> {
  if (from === undefined) return null;
  const [rows] = await db.query('SHOW BINARY LOGS');
  const files = rows as { Log_name: string; File_size: number | string }[];
  const at = files.findIndex((f) => f.Log_name === from.file);
  if (at < 0) return null;
  let bytes = Number(files[at]!.File_size) - from.offset;
  for (const f of files.slice(at + 1)) bytes += Number(f.File_size);
  return Math.max(0, bytes);
}
