import { LOG_OPTION, stringOption } from '../context.js';
import { NAMESPACE_OPTION, openTransport, TRANSPORT_OPTION } from '../open-transport.js';
import type { Command } from './command.js';
import { parseSeekTarget } from './seek-target.js';

export const replayCommand: Command = {
  spec: {
    name: 'replay',
    summary: "move a consumer group's position in a topic back (or forward), to reprocess events",
    usage: 'sluice replay --group G --topic T --to earliest|latest|TIME|PARTITION:OFFSET [--log FILE]',
    options: [
      LOG_OPTION,
      TRANSPORT_OPTION,
      NAMESPACE_OPTION,
      { name: 'group', type: 'string', description: 'consumer group to move' },
      { name: 'topic', type: 'string', description: 'topic whose position moves' },
      {
        name: 'to',
        type: 'string',
        description: 'earliest, latest, an ISO time, or PARTITION:OFFSET',
        env: '-',
      },
    ],
    examples: [
      'sluice replay --group billing --topic enrollments --to 2026-11-26T09:00:00Z',
      'sluice replay --group billing --topic enrollments --to 3:1200',
    ],
  },
  async run(options) {
    const group = stringOption(options, 'group');
    const topic = stringOption(options, 'topic');
    const target = parseSeekTarget(stringOption(options, 'to'));
    const transport = await openTransport(options, { readOnly: true });
    try {
      await transport.resetOffsets(group, topic, target);
    } finally {
      await transport.close();
    }
    console.log(`group ${group} will read ${topic} from ${stringOption(options, 'to')} when it next joins.`);
    console.log(
      'Stop the group before replaying: running members keep their positions. Events already in its inbox are skipped;',
    );
    console.log('to rebuild from scratch, consume with a new group name instead.');
    return 0;
  },
};
