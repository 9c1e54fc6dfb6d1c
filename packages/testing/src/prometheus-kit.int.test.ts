import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { after, describe, it } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { freePort } from './private-redis.js';
import { scrapedByTestPrometheus } from './prometheus-kit.js';

/** A node:http server on 127.0.0.1 (random port) serving `registry` on /metrics; resolves with its port. */
async function serveMetrics(registry: Registry): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: unknown) => res.writeHead(500).end(String(error)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return { server, port: (server.address() as { port: number }).port };
}

const uniqueJob = (what: string) => `sluice-kit-${what}-${process.pid}-${randomUUID().slice(0, 8)}`;

describe('prometheus kit, on the real Prometheus of scripts/services', () => {
  const prometheus = scrapedByTestPrometheus();
  after(() => prometheus.remove());

  it('Prometheus scrapes the target the kit adds, its query API returns the counter once incremented, and a removed target is dropped', async () => {
    const registry = new Registry();
    const counter = new Counter({
      name: 'sluice_kit_test_total',
      help: 'Incremented by the prometheus kit test',
      registers: [registry],
    });
    const { server, port } = await serveMetrics(registry);
    after(() => new Promise((resolve) => server.close(resolve)));
    const job = uniqueJob('counter');
    const selector = `sluice_kit_test_total{job="${job}"}`;

    const target = await prometheus.addTarget(job, `127.0.0.1:${port}`, { sluice_test: 'prometheus-kit' });
    const scraped = await prometheus.waitForTarget(job);
    assert.equal(scraped.scrapeUrl, `http://127.0.0.1:${port}/metrics`);
    assert.equal(scraped.labels['sluice_test'], 'prometheus-kit');
    await prometheus.waitFor(selector, (s) => s.length === 1 && s[0]!.value === 0);

    counter.inc(7);
    const samples = await prometheus.waitFor(selector, (s) => s[0]?.value === 7);
    assert.deepEqual(
      samples.map((s) => ({ ...s.metric, value: s.value })),
      [
        {
          __name__: 'sluice_kit_test_total',
          instance: `127.0.0.1:${port}`,
          job,
          sluice_test: 'prometheus-kit',
          value: 7,
        },
      ],
    );

    await target.remove();
    await prometheus.waitForNoTarget(job);
  });

  it('a target nothing listens on is reported down, with the scrape error', async () => {
    const job = uniqueJob('down');
    const port = await freePort();
    await prometheus.addTarget(job, `127.0.0.1:${port}`);
    const scraped = await prometheus.waitForScraped(job);
    assert.equal(scraped.health, 'down');
    assert.match(scraped.lastError, /refused/);
    await assert.rejects(
      prometheus.waitForTarget(job, 500),
      new RegExp(`not found it up .*http://127\\.0\\.0\\.1:${port}/metrics is down \\(.*refused`),
    );
  });

  it('query() evaluates scalars and vectors, and names Prometheus’ error for bad PromQL', async () => {
    assert.deepEqual(
      (await prometheus.query('1 + 41')).map((s) => s.value),
      [42],
    );
    const up = await prometheus.query('vector(3)');
    assert.deepEqual(
      up.map((s) => [s.metric, s.value]),
      [[{}, 3]],
    );
    await assert.rejects(prometheus.query('sum(('), /HTTP 400: bad_data/);
  });
});
