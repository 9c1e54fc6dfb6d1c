// Contracts with classified fields and a backfill refusal, for the CLI's guarantee tests (`--contracts` of tail,
// dlq and backfill). Loaded by the child CLI through tsx.
import { defineChangeMapping, defineEvent, defineKey, defineTopic, mapped } from '@sluice/core';
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

export const PlanId = defineKey('planId', z.string().min(1), { description: 'A membership plan' });

export const PlanListed = defineEvent({
  type: 'plan.listed',
  version: 1,
  key: PlanId,
  schema: z.object({ planId: z.string(), name: z.string() }),
  topic: defineTopic({ name: 'plans', kind: 'entity' }),
  description: 'A plan as members see it now',
});

/** The legacy tables (schema `cli_guarantees`) and the contracts each feeds. */
export const membersMapping = defineChangeMapping({
  tables: { 'cli_guarantees.members': [MemberJoined], 'cli_guarantees.plans': [PlanListed] },
  map: (change) => {
    const row = change.after as Record<string, string> | undefined;
    if (row === undefined) return [];
    if (change.table === 'plans') return [mapped(PlanListed, { planId: row['id']!, name: row['name']! })];
    return [];
  },
});
