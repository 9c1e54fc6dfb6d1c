import { type DeadLetter, parseDeadLetter, redriveRecord, type Transport } from '@sluice/core';
import { JSON_OPTION, LOG_OPTION, stringOption } from '../context.js';
import { forTerminal, NAMESPACE_OPTION, openTransport, TRANSPORT_OPTION } from '../open-transport.js';
import { UsageError } from '../options.js';
import type { Command } from './command.js';
import {
  createEventMasker,
  type EventMasker,
  MASK_CONTRACTS_OPTION,
  SHOW_PERSONAL_OPTION,
} from './event-masker.js';

const PAGE = 10_000;

export const dlqCommand: Command = {
  spec: {
    name: 'dlq',
    summary: "inspect and redrive a consumer group's dead letters",
    usage:
      'sluice dlq list|show <event-id>|redrive [--id EVENT-ID] --group G [--log FILE] [--json] [--contracts MODULE [--show-personal]]',
    options: [
      LOG_OPTION,
      TRANSPORT_OPTION,
      NAMESPACE_OPTION,
      JSON_OPTION,
      { name: 'group', type: 'string', description: 'consumer group whose dead letters to use' },
      { name: 'topic', type: 'string', description: 'dead-letter topic (default: <group>.dlq)', env: '-' },
      { name: 'id', type: 'string', description: 'redrive only this event', env: '-' },
      MASK_CONTRACTS_OPTION,
      SHOW_PERSONAL_OPTION,
    ],
    examples: [
      'sluice dlq list --group billing',
      'sluice dlq show 0193... --group billing --contracts ./dist/contracts.js',
      'sluice dlq redrive --group billing',
    ],
  },
  async run(options, positionals) {
    const action = positionals[0];
    const group = stringOption(options, 'group');
    const topic = (options['topic'] as string | undefined) ?? `${group}.dlq`;
    const masker =
      action === 'list' || action === 'show' ? await createEventMasker(options, `dlq ${action}`) : undefined;
    const transport = await openTransport(options, { readOnly: true });
    try {
      if (action === 'list') return await list(transport, topic, options['json'] === true, masker!);
      if (action === 'show') {
        const id = positionals[1];
        if (!id) throw new UsageError('name the event: sluice dlq show <event-id>');
        return await show(transport, topic, id, options['json'] === true, masker!);
      }
      if (action === 'redrive') return await redrive(transport, topic, options['id'] as string | undefined);
      throw new UsageError('say what to do: sluice dlq list | show <event-id> | redrive');
    } catch (error) {
      throw forTerminal(error, options);
    } finally {
      await transport.close();
    }
  },
};

async function readAll(transport: Transport, topic: string): Promise<DeadLetter[]> {
  return (await transport.read(topic, { to: 'earliest' }, PAGE)).map(parseDeadLetter);
}

async function list(
  transport: Transport,
  topic: string,
  json: boolean,
  masker: EventMasker,
): Promise<number> {
  const letters = await readAll(transport, topic);
  if (json) {
    for (const l of letters) console.log(JSON.stringify({ ...l, value: masker.maskValue(l.value) }));
    return 0;
  }
  if (letters.length === 0) {
    console.log(`${topic}: no dead letters`);
    return 0;
  }
  console.log(`${topic}: ${letters.length} dead letter(s)`);
  for (const l of letters) {
    console.log(
      `${l.failedAt}  ${l.eventId}  ${l.original.topic}/${l.original.partition}@${l.original.offset} key=${l.original.key}  after ${l.attempts} attempt(s): ${l.error.code}: ${firstLine(l.error.message)}`,
    );
  }
  return 0;
}

async function show(
  transport: Transport,
  topic: string,
  id: string,
  json: boolean,
  masker: EventMasker,
): Promise<number> {
  const letter = (await readAll(transport, topic)).find((l) => l.eventId === id);
  if (!letter) {
    console.error(`${topic}: no dead letter with event id ${id}; list them with \`sluice dlq list\``);
    return 1;
  }
  if (json) console.log(JSON.stringify({ ...letter, value: masker.maskValue(letter.value) }));
  else {
    console.log(`event      ${letter.eventId}`);
    console.log(`group      ${letter.group}`);
    console.log(
      `from       ${letter.original.topic} partition ${letter.original.partition} offset ${letter.original.offset}, key ${letter.original.key}`,
    );
    console.log(`failed at  ${letter.failedAt} after ${letter.attempts} attempt(s)`);
    console.log(`error      ${letter.error.code}: ${letter.error.message}`);
    console.log('envelope');
    console.log(prettyValue(masker.maskValue(letter.value)));
  }
  return 0;
}

/**
 * Puts dead letters back on their original topics. Without `--id`, every letter not yet redriven is redriven
 * and the redrive group's position moves past it; with `--id`, only that letter (the position does not move).
 */
async function redrive(transport: Transport, topic: string, id: string | undefined): Promise<number> {
  const sub = await transport.subscribe({ group: `${topic}.redrive`, topics: [topic] });
  let count = 0;
  const sent = new Set<string>();
  try {
    for (;;) {
      const records = await sub.poll({ maxRecords: 500, maxWaitMs: 200 });
      if (records.length === 0) break;
      for (const record of records) {
        const letter = parseDeadLetter(record);
        if (id !== undefined && letter.eventId !== id) continue;
        // A letter dead-lettered twice (a consumer that crashed before committing) is sent back once.
        if (sent.has(letter.eventId)) continue;
        sent.add(letter.eventId);
        await transport.publish([redriveRecord(letter, record.headers)]);
        count++;
        console.log(`redriven ${letter.eventId} to ${letter.original.topic} (key ${letter.original.key})`);
      }
      if (id === undefined) await sub.commit(records);
    }
  } finally {
    await sub.close();
  }
  if (id !== undefined && count === 0) {
    console.error(`${topic}: no pending dead letter with event id ${id}`);
    return 1;
  }
  console.log(
    `${count} dead letter(s) redriven. The consumer's inbox applies each once; note that a redriven event arrives after later events of its key.`,
  );
  return 0;
}

function firstLine(s: string): string {
  const line = s.split('\n')[0] ?? '';
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}

function prettyValue(value: string | null): string {
  if (value === null) return '(tombstone)';
  try {
    return JSON.stringify(JSON.parse(value), null, 2);
  } catch {
    return value;
  }
}
