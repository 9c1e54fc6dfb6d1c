import { errorCode, errorMessage } from '../errors.js';
import type { Subscription } from '../transport/subscription.js';
import { retrying } from '../util/retrying.js';
import type { ResolvedConsumeOptions } from './consumer-options.js';

/**
 * Prepares and joins a consumer's group: ensures its topics and its dead-letter topic, starts the group in the
 * inbox, resets offsets for a replay, subscribes. Returns the subscription and whether the inbox tracks the
 * group's chains from their first event. Rejects only on a permanent failure or abort.
 */
export async function joinGroup<Tx>(
  o: ResolvedConsumeOptions<Tx>,
  signal: AbortSignal,
): Promise<{ subscription: Subscription; fromStart: boolean }> {
  const specs = new Map(
    [...o.handlers.map((h) => h.contract), ...o.upcasters.map((u) => u.from)].map((c) => [
      c.topic.name,
      c.topic,
    ]),
  );
  const topics = [...specs.keys()];
  // The broker may be briefly away (restarting, electing a leader, loading its data): wait for it; a permanent
  // refusal (a topic declared with another kind) stops the consumer with its message.
  const untilDone = <T>(what: string, fn: () => Promise<T>) =>
    retrying(fn, o.backoff, signal, (error, attempt, delayMs) =>
      o.logger.warn(`${what} failed; retrying`, {
        group: o.group,
        code: errorCode(error),
        error: errorMessage(error),
        attempt,
        delayMs,
      }),
    );
  for (const spec of specs.values()) {
    await untilDone('creating a topic', () => o.transport.ensureTopic(spec));
  }
  await untilDone('creating the dead-letter topic', () =>
    o.transport.ensureTopic({ name: o.deadLetterTopic, kind: 'event', partitions: 1 }),
  );
  // A new group reading every topic from its beginning sees every chain from its first event; a group that
  // applied events before (perhaps before chains were kept), starts at the latest offset or replays does not.
  const fromStart = o.startFrom === 'earliest' && o.replay === undefined;
  const started = await untilDone('starting the group in the inbox', () =>
    o.inbox.startGroup(o.group, fromStart),
  );
  if (o.replay) {
    const target = o.replay;
    for (const t of topics) await untilDone('replay', () => o.transport.resetOffsets(o.group, t, target));
  }
  const subscription = await untilDone('joining the group', () =>
    o.transport.subscribe({
      group: o.group,
      topics,
      startFrom: o.startFrom,
      ...(o.memberId === undefined ? {} : { memberId: o.memberId }),
    }),
  );
  return { subscription, fromStart: started };
}
