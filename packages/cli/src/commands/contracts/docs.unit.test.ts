import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  buildLock,
  checkEvent,
  defineEvent,
  defineKey,
  defineTopic,
  exampleOf,
  lockContract,
} from '@sluice/core';
import { z } from 'zod';
import { loadContracts } from '../../context.js';
import { renderCatalogue } from './catalogue-html.js';
import { EXAMPLES, sluiceInProcess, tempDir } from './examples.test-support.js';
import { escapeHtml } from './html-escape.js';

const MemberId = defineKey('memberId', z.string().regex(/^M-\d+$/), {
  description: 'A member <b>&</b> "quoted"',
});
const members = defineTopic({ name: 'members', kind: 'message', partitions: 2, retentionMs: 7 * 86_400_000 });
const joined = (version: number) =>
  defineEvent({
    type: 'member.joined',
    version,
    key: MemberId,
    topic: members,
    description: `Joined <script>alert("v${version}")</script>`,
    schema: z.object({
      memberId: MemberId.schema,
      email: z.email(),
      plan: z.enum(['<free>', 'pro']),
      card: z.object({ last4: z.string().regex(/^\d{4}$/) }).optional(),
    }),
    classification: { email: 'personal', 'card.last4': 'secret' },
    ...(version === 1
      ? { deprecated: { since: '2027-01-31', replacedBy: 2, reason: 'plan <names> changed' } }
      : { backfill: false }),
  });

describe('sluice contracts docs', () => {
  it('renders versions with mode, deprecation, backfill, classification, fields and a valid example, all escaped', () => {
    const html = renderCatalogue(
      [joined(1), joined(2)].map((c) => ({ contract: lockContract(c), from: 'test' })),
      { title: 'Members <&>', sources: ['test'] },
    );
    assert.doesNotMatch(html, /<script|alert\("v1"\)<\/script>|<b>&<\/b>|<free>|<names>/);
    assert.match(html, /Joined &lt;script&gt;alert\(&quot;v1&quot;\)&lt;\/script&gt;/);
    assert.match(html, /<title>Members &lt;&amp;&gt; — event catalogue<\/title>/);
    assert.match(html, /deprecated since 2027-01-31, use v2/);
    assert.match(html, /plan &lt;names&gt; changed/);
    assert.match(html, /no backfill/);
    assert.match(html, /retention 7 d/);
    assert.match(
      html,
      /<tr class="classified"><td><code>email<\/code>.*<span class="badge personal">personal<\/span>/,
    );
    assert.match(
      html,
      /<tr class="classified"><td><code>card\.last4<\/code>.*<span class="badge secret">secret<\/span>/,
    );
    assert.match(
      html,
      /<td><code>card\.last4<\/code><\/td><td>string<\/td><td>yes<\/td><td>pattern \^\\d\{4\}\$/,
    );
    // Self-contained: no scripts, no external style sheets, images or links.
    assert.doesNotMatch(html, /<script|<link|<img|\ssrc=|href="(?!#)/);
    const example = exampleOf(lockContract(joined(2)).schema);
    assert.ok(html.includes(escapeHtml(JSON.stringify(example, null, 2))));
    checkEvent(joined(2), example, 'append');
  });

  it('writes index.html for a contracts module and another service’s lock file: topics, events, keys', async () => {
    const dir = tempDir('docs');
    const legacy = await loadContracts(EXAMPLES['legacy-courses'].contracts);
    const lockFile = join(dir, 'catalogue.lock.json');
    writeFileSync(lockFile, JSON.stringify(buildLock(legacy, { service: 'urn:service:catalogue' })));
    const out = join(dir, 'site');
    const code = await sluiceInProcess([
      'contracts',
      'docs',
      '--contracts',
      EXAMPLES.enrollments.contracts,
      '--lock',
      lockFile,
      '--out',
      out,
      '--title',
      'Enrollments',
    ]);
    assert.equal(code, 0);
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    const enrollments = await loadContracts(EXAMPLES.enrollments.contracts);
    for (const c of [...enrollments, ...legacy]) {
      assert.ok(html.includes(`id="${c.type}--v${c.version}"`), `${c.type} v${c.version} in the catalogue`);
      // The example shown is valid for the contract.
      const example = exampleOf(lockContract(c).schema);
      checkEvent(c, example, 'append');
      assert.ok(html.includes(escapeHtml(JSON.stringify(example, null, 2))), `${c.type} example shown`);
    }
    for (const t of ['enrollments', 'catalogue-courses', 'catalogue-course-listing'])
      assert.match(html, new RegExp(`<h2>Topic <code>${t}</code></h2>`));
    const courseKey = /<tr id="key--courseId">(.*?)<\/tr>/s.exec(html)?.[1] ?? '';
    assert.match(
      courseKey,
      /course\.published<\/code> v1<\/a> key <code>courseId<\/code> <span class="muted">\(urn:service:catalogue\)/,
    );
    assert.match(courseKey, /enrollment\.created<\/code> v1<\/a> field <code>courseId<\/code>/);
    assert.doesNotMatch(courseKey, /enrollment\.progressed/);
  });

  it('a lock file named but missing is a usage error (exit 2)', async () => {
    const dir = tempDir('docs');
    const code = await sluiceInProcess([
      'contracts',
      'docs',
      '--contracts',
      EXAMPLES.enrollments.contracts,
      '--lock',
      join(dir, 'missing.lock.json'),
      '--out',
      dir,
    ]);
    assert.equal(code, 2);
  });
});
