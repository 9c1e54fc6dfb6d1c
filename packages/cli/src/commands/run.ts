import { startService } from '@sluice/server';
import { loadResolvedConfig } from '../load-service-config.js';
import type { Command } from './command.js';

export const runCommand: Command = {
  spec: {
    name: 'run',
    summary: "run the config's pipelines as a service, with /livez, /readyz, /metrics and /api/status",
    usage: 'sluice run [--config sluice.config.ts] [--port N] [--host ADDR] [--only NAME[,NAME...]]',
    options: [
      {
        name: 'port',
        type: 'number',
        description: "HTTP port (0: any free one); default: the config's http.port, else 9400",
      },
      {
        name: 'host',
        type: 'string',
        description: "HTTP address to listen on; default: the config's http.host, else 127.0.0.1",
      },
      { name: 'only', type: 'string', description: 'run only these pipelines (comma-separated names)' },
      {
        name: 'shutdown-timeout-ms',
        type: 'number',
        description:
          "how long SIGTERM waits for in-flight work before exiting anyway; default: the config's, else 10000",
      },
    ],
    examples: [
      'sluice run --config sluice.config.ts',
      'DATABASE_URL=postgres://app:secret@db/app sluice run --config sluice.config.mjs --port 9400 --only orders-relay',
    ],
  },
  async run(options) {
    const { resolved } = await loadResolvedConfig(options);
    const service = await startService(resolved, {
      ...(options['port'] === undefined ? {} : { port: options['port'] as number }),
      ...(options['host'] === undefined ? {} : { host: options['host'] as string }),
    });
    if (process.send) process.send({ ready: true, url: service.url });
    const bound =
      (options['shutdown-timeout-ms'] as number | undefined) ?? resolved.shutdownTimeoutMs ?? 10_000;
    // The first SIGTERM (or SIGINT) drains within the bound; a second one exits at once. Either way nothing is
    // lost: the outbox and the committed positions are the truth, so in-flight work is sent again on start.
    return await new Promise<number>((resolve) => {
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals) => {
        signals++;
        if (signals > 1) {
          service.logger.warn('second signal: exiting at once', { signal });
          process.exit(1);
        }
        service.logger.info('signal received: draining', { signal, boundMs: bound });
        void service.stop(bound).then((inTime) => {
          // At the bound, work still in flight (a handler that does not return) would keep the process alive:
          // exit now; it is done again after the restart.
          if (!inTime) process.exit(1);
          resolve(0);
        });
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    });
  },
};
