/**
 * How topics, partitions, keys, groups and members map to JetStream stream names and subjects. Every name
 * part is encoded into a token of `[A-Za-z0-9_]` (other characters as `_` + hex), so '.', '*', '>', spaces and
 * '-' never reach a subject or stream name, and different inputs never collide.
 */
export interface NatsNames {
  /** The stream of a topic. */
  topicStream(topic: string): string;
  /** The subject of one partition; entity topics append the key token (`partitionSubject(...).<key>`). */
  partitionSubject(topic: string, partition: number): string;
  /** Where a record is published. */
  recordSubject(topic: string, partition: number, key: string, entity: boolean): string;
  /** The filter of one partition's records. */
  partitionFilter(topic: string, partition: number, entity: boolean): string;
  /** The filter of every record of a topic. */
  topicFilter(topic: string): string;
  /** The stream of group members' heartbeats. */
  readonly membersStream: string;
  /** Subject of one member's heartbeats. */
  memberSubject(group: string, member: string): string;
  /** Filter of all members of a group. */
  membersFilter(group: string): string;
  /** The stream of committed offsets. */
  readonly offsetsStream: string;
  /** Subject holding a group's committed position in one partition. */
  offsetSubject(group: string, topic: string, partition: number): string;
}

/** Encodes any string into a token of `[A-Za-z0-9_]`: other UTF-8 bytes as `_` and two hex digits. */
export function token(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9]/.test(c) ? c : `_${byte.toString(16).padStart(2, '0')}`;
  }
  return out === '' ? '_' : out;
}

/** A key as one subject token: `k` + base64url of its UTF-8 bytes. */
export function keyToken(key: string): string {
  return `k${Buffer.from(key, 'utf8').toString('base64url')}`;
}

/** The names used under `namespace`. */
export function natsNames(namespace: string): NatsNames {
  const ns = token(namespace);
  const root = `sluice.${ns}`;
  const topicSubject = (topic: string) => `${root}.t.${token(topic)}`;
  return {
    topicStream: (topic) => `SLUICE-${ns}-${token(topic)}`,
    partitionSubject: (topic, partition) => `${topicSubject(topic)}.${partition}`,
    recordSubject: (topic, partition, key, entity) =>
      entity ? `${topicSubject(topic)}.${partition}.${keyToken(key)}` : `${topicSubject(topic)}.${partition}`,
    partitionFilter: (topic, partition, entity) =>
      entity ? `${topicSubject(topic)}.${partition}.*` : `${topicSubject(topic)}.${partition}`,
    topicFilter: (topic) => `${topicSubject(topic)}.>`,
    membersStream: `SLUICE-${ns}--members`,
    memberSubject: (group, member) => `${root}.members.${token(group)}.${token(member)}`,
    membersFilter: (group) => `${root}.members.${token(group)}.*`,
    offsetsStream: `SLUICE-${ns}--offsets`,
    offsetSubject: (group, topic, partition) =>
      `${root}.offsets.${token(group)}.${token(topic)}.${partition}`,
  };
}

/** The partition number of a record subject (`...t.<topic>.<partition>[.<key>]`). */
export function partitionOfSubject(subject: string, topicSubjectPrefix: string): number | undefined {
  if (!subject.startsWith(topicSubjectPrefix)) return undefined;
  const rest = subject.slice(topicSubjectPrefix.length);
  const dot = rest.indexOf('.');
  const n = Number(dot < 0 ? rest : rest.slice(0, dot));
  return Number.isInteger(n) ? n : undefined;
}
