import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildLock, type ContractsLock, createRegistry } from '@sluice/core';
import { enrollmentContracts } from '@sluice/example-enrollments';
import * as legacyCourses from '../../../examples/legacy-courses/src/contracts.js';
import { assertExit, lines, sluice } from './cli-runner.test-support.js';

// `sluice contracts keys` and `sluice contracts check --with` on the two examples: enrollments carries the
// catalogue's CourseId in `enrollment.created.courseId`; legacy-courses keys its course events by it (it imports
// the key type from @sluice/example-enrollments). Lock files are built here with buildLock from the examples'
// contracts, then changed the way another team might change theirs.
const LEGACY_MODULE = fileURLToPath(
  new URL('../../../examples/legacy-courses/src/contracts.ts', import.meta.url),
);
const ENROLLMENTS = buildLock(enrollmentContracts, { service: 'urn:service:enrollments' });
const LEGACY_CONTRACTS = [
  legacyCourses.CoursePublished,
  legacyCourses.CourseUpdated,
  legacyCourses.CourseListing,
];
const LEGACY = buildLock(LEGACY_CONTRACTS, { service: 'urn:service:legacy-courses' });

/** `lock` with every `courseId` key (and field) changed by `change`. */
function withCourseId(
  lock: ContractsLock,
  change: (schema: Record<string, unknown>) => void,
  description?: string,
) {
  const copy = structuredClone(lock) as unknown as {
    contracts: {
      key: { name: string; description: string; schema: Record<string, unknown> };
      schema: { properties: Record<string, Record<string, unknown>> };
    }[];
  };
  for (const c of copy.contracts) {
    if (c.key.name === 'courseId') {
      change(c.key.schema);
      if (description !== undefined) c.key.description = description;
    }
    const field = c.schema.properties['courseId'];
    if (field) change(field);
  }
  return copy;
}

let dir: string;
const file = (name: string, lock: unknown) => {
  writeFileSync(join(dir, name), `${JSON.stringify(lock, null, 2)}\n`);
  return name;
};
const run = (...args: string[]) => sluice(['contracts', ...args], { cwd: dir });

before(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'sluice-keys-')));
  file('enrollments.lock.json', ENROLLMENTS);
  file('legacy.lock.json', LEGACY);
  file(
    'legacy-pattern.lock.json',
    withCourseId(LEGACY, (s) => {
      s['pattern'] = '^C-\\d+$';
    }),
  );
  file(
    'legacy-meaning.lock.json',
    withCourseId(LEGACY, () => {}, 'A classroom, e.g. C-101'),
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('sluice contracts check --with: shared keys across services', () => {
  it('exits 0 when the examples agree on CourseId, both ways', async () => {
    const a = await run('check', '--lock', 'legacy.lock.json', '--with', 'enrollments.lock.json');
    assertExit(a, 0, 'legacy-courses against enrollments');
    assert.equal(a.stdout, '');
    assert.match(a.stderr, /shared keys agree with enrollments\.lock\.json/);
    assertExit(
      await run('check', '--lock', 'enrollments.lock.json', '--with', 'legacy.lock.json,legacy.lock.json'),
      0,
      'enrollments against legacy-courses',
    );
  });

  it("exits 1 with a line per mismatch when the other service's courseId pattern changed", async () => {
    const own = await run('check', '--lock', 'legacy.lock.json', '--with', 'legacy-pattern.lock.json');
    assertExit(own, 1, 'a changed pattern');
    assert.deepEqual(lines(own.stdout), [
      'error key courseId: course.listing v1 (urn:service:legacy-courses) and course.listing v1 (urn:service:legacy-courses) declare different schemas (/pattern: "^C-\\\\d{1,6}$" vs "^C-\\\\d+$"); agree on one and declare it once (share the defineKey module)',
    ]);
    assert.match(own.stderr, /1 shared-key mismatch with legacy-pattern\.lock\.json/);
    // enrollments only carries courseId in a field: the field no longer has the other service's key's shape.
    const field = await run('check', '--lock', 'enrollments.lock.json', '--with', 'legacy-pattern.lock.json');
    assertExit(field, 1, 'a field against a changed key');
    assert.deepEqual(lines(field.stdout), [
      'error key courseId: field courseId of enrollment.created v1 (urn:service:enrollments) has another shape than the key of course.listing v1 (urn:service:legacy-courses) (/pattern: "^C-\\\\d{1,6}$" vs "^C-\\\\d+$", field vs key); give the field the key\'s schema, or rename it if it is another identifier',
    ]);
  });

  it("exits 1 when the other service's courseId means something else (description)", async () => {
    const r = await run(
      'check',
      '--lock',
      'legacy.lock.json',
      '--with',
      'enrollments.lock.json,legacy-meaning.lock.json',
    );
    assertExit(r, 1, 'a changed description');
    assert.equal(lines(r.stdout).length, 1);
    assert.match(
      r.stdout,
      /give it different meanings \("Identifies a course in the catalogue, e\.g\. C-101" vs "A classroom, e\.g\. C-101"\)/,
    );
  });

  it("checks the code's contracts (--contracts) and refuses a missing --with file (exit 2)", async () => {
    assertExit(
      await run(
        'check',
        '--contracts',
        LEGACY_MODULE,
        '--lock',
        'legacy.lock.json',
        '--with',
        'enrollments.lock.json',
      ),
      0,
      '--contracts',
    );
    const bad = await run(
      'check',
      '--contracts',
      LEGACY_MODULE,
      '--lock',
      'legacy.lock.json',
      '--with',
      'legacy-pattern.lock.json',
    );
    assertExit(bad, 1, '--contracts against a changed key');
    const missing = await run('check', '--lock', 'legacy.lock.json', '--with', 'nowhere.lock.json');
    assertExit(missing, 2, 'a missing lock file');
    assert.match(
      missing.stderr,
      /lock file nowhere\.lock\.json does not exist: write it with `sluice contracts lock`/,
    );
  });
});

describe('sluice contracts keys: who can join with whom', () => {
  it('holds both examples in one registry: enrollment.created.courseId has the CourseId key shape', () => {
    assert.equal(createRegistry([...enrollmentContracts, ...LEGACY_CONTRACTS]).all().length, 6);
  });

  it('lists per key every event of both examples that carries it, as key or field', async () => {
    const r = await run('keys', '--lock', 'enrollments.lock.json,legacy.lock.json');
    assertExit(r, 0, 'keys');
    const text = r.stdout;
    assert.match(
      text,
      /^courseId: Identifies a course in the catalogue, e\.g\. C-101\n {2}declared by urn:service:legacy-courses; carried by 4 event versions of 2 services\n/,
    );
    assert.match(
      text,
      /\n {2}field {2}enrollment\.created v1 +urn:service:enrollments +topic enrollments +field courseId\n/,
    );
    assert.match(
      text,
      /\n {2}key {4}course\.published v1 +urn:service:legacy-courses +topic catalogue-courses +field courseId\n/,
    );
    assert.match(text, /\nenrollmentId: Identifies one student enrolled in one course/);
    const json = lines(
      (await run('keys', '--lock', 'enrollments.lock.json,legacy.lock.json', '--json')).stdout,
    ).map((l) => JSON.parse(l));
    assert.deepEqual(
      json.map((k) => k.key),
      ['courseId', 'enrollmentId'],
    );
    assert.deepEqual(
      json[0].carriers.map(
        (c: { service: string; type: string; as: string }) => `${c.service} ${c.type} ${c.as}`,
      ),
      [
        'urn:service:enrollments enrollment.created field',
        'urn:service:legacy-courses course.listing key',
        'urn:service:legacy-courses course.published key',
        'urn:service:legacy-courses course.updated key',
      ],
    );
  });

  it('adds the --contracts module, flags a field of another shape, and needs a lock file otherwise', async () => {
    const r = await run('keys', '--lock', 'enrollments.lock.json', '--contracts', LEGACY_MODULE);
    assertExit(r, 0, 'keys with --contracts');
    assert.match(r.stdout, /course\.published v1 +\S*legacy-courses\/src\/contracts\.ts/);
    const mixed = await run(
      'keys',
      '--lock',
      'enrollments.lock.json,legacy-pattern.lock.json,legacy.lock.json',
    );
    assert.match(mixed.stdout, /field courseId \(another shape: see `sluice contracts check --with`\)/);
    assertExit(
      await run('keys', '--contracts', LEGACY_MODULE),
      0,
      'no contracts.lock.json, --contracts only',
    );
    assertExit(await run('keys'), 2, 'no lock file at all');
  });
});
