import {
  type ChangeSource,
  type ChangesPipelineConfig,
  createStore,
  createTransport,
  errorCode,
  errorMessage,
  type TransportConfig,
} from '@sluice/core';
import { maskUrl } from '@sluice/core/adapter';
import { loadResolvedConfig } from '../load-service-config.js';
import type { Command } from './command.js';

export const checkCommand: Command = {
  spec: {
    name: 'check',
    summary:
      'validate a service config without running it: env, references, databases, migrations, buses, topics, change data capture prerequisites',
    usage: 'sluice check [--config sluice.config.ts] [--only NAME[,NAME...]]',
    options: [
      { name: 'only', type: 'string', description: 'check only these pipelines (comma-separated names)' },
    ],
    examples: ['sluice check --config sluice.config.ts'],
  },
  async run(options) {
    const { file, resolved } = await loadResolvedConfig(options);
    const problems: string[] = [];
    const ok = (line: string) => process.stdout.write(`ok    ${line}\n`);
    const fail = (line: string) => {
      problems.push(line);
      process.stdout.write(`FAIL  ${line}\n`);
    };
    const used = Object.values(resolved.pipelines);
    for (const [name, store] of Object.entries(resolved.stores ?? {})) {
      if (!used.some((p) => 'store' in p && p.store === name)) continue;
      const opened = await createStore(store).catch((e: unknown) => e as Error);
      if (opened instanceof Error) {
        fail(`store ${name}: ${errorCode(opened)} ${errorMessage(opened)}`);
        continue;
      }
      try {
        const pending = await opened.pendingMigrations();
        if (pending.length === 0) ok(`store ${name}: ${opened.name} reachable, migrated`);
        else
          fail(
            `store ${name}: ${opened.name} has ${pending.length} pending migration(s): run \`sluice migrate --db …\``,
          );
      } catch (error) {
        fail(`store ${name}: ${errorCode(error)} ${errorMessage(error)}`);
      } finally {
        await opened.close();
      }
    }
    for (const [name, transportConfig] of Object.entries(resolved.transports ?? {})) {
      const pipelines = used.filter((p) => p.transport === name);
      if (pipelines.length === 0) continue;
      const where = describe(transportConfig);
      try {
        const transport = await createTransport(transportConfig);
        try {
          // Creates what is missing, as the relay would, and refuses a topic declared with another kind or count.
          for (const p of pipelines)
            if ('topics' in p) for (const t of p.topics) await transport.ensureTopic(t);
          ok(`transport ${name}: ${where} reachable, topics declared compatibly`);
        } finally {
          await transport.close();
        }
      } catch (error) {
        fail(`transport ${name} (${where}): ${errorCode(error)} ${errorMessage(error)}`);
      }
    }
    for (const [name, pipeline] of Object.entries(resolved.pipelines)) {
      if (pipeline.kind !== 'changes') continue;
      await checkChangeSource(name, pipeline, resolved.vars ?? {}, ok, fail);
    }
    process.stdout.write(
      problems.length === 0
        ? `${file}: ${Object.keys(resolved.pipelines).length} pipeline(s) ready to run\n`
        : `${file}: ${problems.length} problem(s)\n`,
    );
    return problems.length === 0 ? 0 : 1;
  },
};

/**
 * The change source's own prerequisites (log settings, privileges, slot, publication, position, tables), read
 * only: the source is built from the config, asked for its preflight checks, and closed unstarted.
 */
async function checkChangeSource(
  name: string,
  pipeline: ChangesPipelineConfig,
  vars: Readonly<Record<string, string>>,
  ok: (line: string) => void,
  fail: (line: string) => void,
): Promise<void> {
  let source: ChangeSource;
  try {
    source = (await pipeline.changes(vars)).source;
  } catch (error) {
    fail(`pipeline ${name}: its changes() failed: ${errorCode(error)} ${errorMessage(error)}`);
    return;
  }
  try {
    if (source.preflight === undefined) {
      ok(`pipeline ${name}: ${source.name} has no prerequisites to check before it runs`);
      return;
    }
    for (const check of await source.preflight())
      (check.ok ? ok : fail)(`pipeline ${name}: ${source.name}: ${check.name}: ${check.detail}`);
  } catch (error) {
    fail(`pipeline ${name}: ${source.name}: ${errorCode(error)} ${errorMessage(error)}`);
  } finally {
    await source.close().catch(() => undefined);
  }
}

function describe(config: TransportConfig | string): string {
  if (typeof config === 'string') return maskUrl(config);
  return config.kind === 'embedded' ? config.path : maskUrl(config.url);
}
