/** Replaces the password of every `scheme://user:password@` in a text with `***` (logs, status, messages). */
export function maskSecrets(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s"']*:)[^@\s/"']+@/gi, '$1***@');
}

/** {@link maskSecrets} applied to every string inside a JSON-like value. */
export function maskValue(value: unknown): unknown {
  if (typeof value === 'string') return maskSecrets(value);
  if (Array.isArray(value)) return value.map(maskValue);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = maskValue(v);
    return out;
  }
  return value;
}
