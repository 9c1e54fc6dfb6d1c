/**
 * Child process for the embedded log's "acknowledged means stored" fault test: 4 publishers at full rate on a
 * log file, until SIGKILLed or told to stop. Before each publish() it reports the records (and waits until
 * the report is written to the IPC channel, so a SIGKILL cannot hide a record that may be stored); after
 * each ack it reports where the records went.
 * argv: <log.db> <topic> <tag> <firstPublisher>
 */
import type { OutgoingRecord, PublishAck, Transport } from '@sluice/core';
import { createLogTransport } from '@sluice/sqlite';
import { startPublishers } from '@sluice/testing';

const [path, topic, tag, first] = process.argv.slice(2);
if (!path || !topic || !tag || first === undefined)
  throw new Error('usage: log-publisher-process <log.db> <topic> <tag> <firstPublisher>');

const send = (message: unknown) =>
  new Promise<void>((resolve, reject) =>
    process.send?.(message, undefined, {}, (error) => (error ? reject(error) : resolve())),
  );

const log = createLogTransport({ path });
/** The log, reporting every record before publishing it and every ack after. */
const reporting: Transport = {
  name: log.name,
  ensureTopic: (spec) => log.ensureTopic(spec),
  subscribe: (options) => log.subscribe(options),
  resetOffsets: (group, t, target) => log.resetOffsets(group, t, target),
  lag: (group, t) => log.lag(group, t),
  read: (t, target, limit) => log.read(t, target, limit),
  close: () => log.close(),
  async publish(records: readonly OutgoingRecord[]): Promise<PublishAck[]> {
    await send({ publishing: records.map((r) => [r.key, r.value]) });
    const acks = await log.publish(records);
    await send({ acked: acks.map((a, i) => [records[i]!.value, a.partition, a.offset]) });
    return acks;
  },
};
await reporting.ensureTopic({ name: topic, kind: 'event', partitions: 8 });
const publishers = startPublishers({ transport: reporting, topic, tag, firstPublisher: Number(first) });
await send({ ready: true });
process.once('SIGTERM', () => publishers.stop());
const run = await publishers.done;
await log.close();
await send({ done: true, failedPublishes: run.failedPublishes, errors: run.errors.map(String) });
process.exit(0);
