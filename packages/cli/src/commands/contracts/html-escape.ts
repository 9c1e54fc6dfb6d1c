/** Text made safe for HTML element content and attribute values (double- or single-quoted). */
export function escapeHtml(value: unknown): string {
  return String(value)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** An `id` / fragment for anything: letters, digits, `.`, `_`, `-`; other characters as `-XX` hex. */
export function anchorOf(...parts: string[]): string {
  return parts.join('--').replace(/[^A-Za-z0-9._-]/g, (c) => `-${c.codePointAt(0)!.toString(16)}`);
}
