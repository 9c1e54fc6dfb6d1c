import assert from 'node:assert/strict';
import { it } from 'node:test';
import { decodeEnvelope, defineEvent, defineKey, defineTopic } from '@sluice/core';
import { prepareEvent } from '@sluice/core/adapter';
import { z } from 'zod';
import { splitEnvelope } from './append-statement.js';

const Tricky = defineKey('ref', z.string(), { description: 'Any string' });
const topic = defineTopic({ name: 'tricky', kind: 'event', partitions: 1 });
const Happened = defineEvent({
  type: 'tricky.happened',
  version: 1,
  key: Tricky,
  schema: z.object({ ref: z.string(), note: z.string() }),
  topic,
  description: 'Strings that look like the sequence attribute',
});

it('splits the envelope around the sequence even when strings contain "sluiceseq":"', () => {
  const lookalike = '"sluiceseq":"1"';
  const event = prepareEvent(Happened, { ref: `k${lookalike}`, note: `${lookalike},"sluiceseq":"9"` });
  const { prefix, suffix } = splitEnvelope(event, `urn:x:${lookalike}`, {
    correlationid: lookalike,
    causationid: '"sluiceseq":"',
  });
  for (const sequence of [1, 42, 9_007_199_254_740_991]) {
    const e = decodeEnvelope(`${prefix}${sequence}${suffix}`);
    assert.equal(e.sluiceseq, sequence);
    assert.equal(e.source, `urn:x:${lookalike}`);
    assert.equal(e.subject, `k${lookalike}`);
    assert.equal(e.correlationid, lookalike);
    assert.equal(e.causationid, '"sluiceseq":"');
    assert.deepEqual(e.data, { ref: `k${lookalike}`, note: `${lookalike},"sluiceseq":"9"` });
  }
});
