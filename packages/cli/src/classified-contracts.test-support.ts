// Contracts with classified fields and a backfill refusal, for the CLI's guarantee tests (`--contracts` of tail,
// dlq and backfill). Loaded by the child CLI through tsx.
import { defineEvent, defineKey, defineTopic } from '@sluice/core';
import { z } from 'zod';

export const MemberId = defineKey('memberId', z.string().min(1), { description: 'A club member' });
export const membersTopic = defineTopic({ name: 'members', kind: 'event', partitions: 2 });

export const MemberJoined = defineEvent({
  type: 'member.joined',
  version: 1,
  key: MemberId,
  schema: z.object({
    memberId: z.string(),
    plan: z.string(),
    email: z.email(),
    password: z.string(),
    address: z.object({ street: z.string(), city: z.string() }),
  }),
  topic: membersTopic,
  description: 'A member joined the club',
  classification: { email: 'personal', password: 'secret', 'address.street': 'personal' },
  backfill: false,
});
