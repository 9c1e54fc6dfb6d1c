const TEXT = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/;

/**
 * Microseconds since 1970 of a timestamp rendered as `YYYY-MM-DD HH:MM:SS[.ffffff]` (read as UTC), exactly: the
 * form both SQL adapters render timestamps in, so that no precision is lost to a JavaScript `Date`.
 */
export function microsFromTimestampText(text: string): number {
  const m = TEXT.exec(text);
  if (m === null) throw new Error(`not a timestamp: ${JSON.stringify(text)}`);
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return ms * 1000 + Number((m[7] ?? '').padEnd(6, '0'));
}

/** The inverse of {@link microsFromTimestampText}: `YYYY-MM-DD HH:MM:SS.ffffff`. */
export function timestampTextFromMicros(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}${String(micros - ms * 1000).padStart(3, '0')}`;
}
