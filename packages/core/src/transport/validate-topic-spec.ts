import type { TopicSpec } from '../contracts/define-topic.js';
import { InvalidOptionError } from '../errors.js';

/**
 * The one topic naming rule, valid on every transport: 1 to 200 characters of ASCII letters, digits, `.`, `_`
 * and `-`, starting with a letter or digit. Kafka allows `[a-zA-Z0-9._-]` up to 249 characters (room is left
 * for a namespace prefix) and refuses `.` and `..`; Redis keys and the embedded log take any string; NATS
 * subjects and stream names refuse `.`, `*`, `>` and spaces in a token, which the NATS transport encodes away
 * (`nats-names.ts`). So a topic that works on one transport works on all of them.
 */
export const TOPIC_NAME_RULE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** The rule in words, for messages. */
export const TOPIC_NAME_RULE_TEXT =
  "1 to 200 characters of letters, digits, '.', '_' and '-', starting with a letter or digit";

/** How long `message` records are kept when the spec gives no `retentionMs`. */
export const DEFAULT_MESSAGE_RETENTION_MS = 24 * 60 * 60 * 1000;

/** The most partitions a topic may have, on every transport. */
export const MAX_PARTITIONS = 4096;

/**
 * Checks a topic spec as every transport's `ensureTopic` (and `defineTopic`) must: the naming rule, a known
 * kind, 1 to 4096 partitions, a positive `retentionMs` on a message topic. Throws `SLUICE_INVALID_OPTION`
 * naming the topic, the field and the rule; returns the spec unchanged. Transports then map the name to their
 * own (a Kafka prefix, a NATS token).
 */
export function validateTopicSpec(spec: TopicSpec, where = 'ensureTopic'): TopicSpec {
  if (spec === null || typeof spec !== 'object') {
    throw new InvalidOptionError(
      where,
      'spec',
      `must be a TopicSpec ({ name, kind, partitions }), got ${spec}`,
    );
  }
  const { name, kind, partitions, retentionMs } = spec;
  if (typeof name !== 'string' || !TOPIC_NAME_RULE.test(name)) {
    throw new InvalidOptionError(
      where,
      'name',
      `must be ${TOPIC_NAME_RULE_TEXT} (one rule on every transport), got ${JSON.stringify(name)}`,
    );
  }
  if (kind !== 'message' && kind !== 'event' && kind !== 'entity') {
    throw new InvalidOptionError(
      where,
      'kind',
      `of topic ${name} must be message, event or entity, got ${JSON.stringify(kind)}`,
    );
  }
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
    throw new InvalidOptionError(
      where,
      'partitions',
      `of topic ${name} must be an integer from 1 to ${MAX_PARTITIONS}, got ${partitions}`,
    );
  }
  if (
    kind === 'message' &&
    retentionMs !== undefined &&
    (!Number.isFinite(retentionMs) || retentionMs <= 0)
  ) {
    throw new InvalidOptionError(
      where,
      'retentionMs',
      `of topic ${name} must be a positive number of milliseconds, got ${retentionMs}`,
    );
  }
  return spec;
}
