/** Readers of raw replies, whichever shape the client gives them (RESP2 flat lists, or mapped). */

/** The field/value pairs of an HGETALL reply (a flat list in RESP2, an object or map when the client maps it). */
export function hashEntries(reply: unknown): [string, string][] {
  if (Array.isArray(reply)) {
    const out: [string, string][] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) out.push([String(reply[i]), String(reply[i + 1])]);
    return out;
  }
  if (reply instanceof Map) return [...reply].map(([k, v]) => [String(k), String(v)]);
  if (reply !== null && typeof reply === 'object')
    return Object.entries(reply as Record<string, unknown>).map(([k, v]) => [k, String(v)]);
  return [];
}

/** The member/score pairs of a ZRANGE … WITHSCORES reply (flat in RESP2, pairs when the client maps it). */
export function scoreEntries(reply: unknown): [string, number][] {
  if (!Array.isArray(reply)) return [];
  if (reply.length > 0 && Array.isArray(reply[0]))
    return (reply as [unknown, unknown][]).map(([m, s]) => [String(m), Number(s)]);
  const out: [string, number][] = [];
  for (let i = 0; i + 1 < reply.length; i += 2) out.push([String(reply[i]), Number(reply[i + 1])]);
  return out;
}
