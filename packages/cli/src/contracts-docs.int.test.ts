import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { buildLock } from '@sluice/core';
import { type Browser, chromium, type Locator } from 'playwright-core';
import { EXAMPLES, REPO, sluiceInProcess, tempDir } from './commands/contracts/examples.test-support.js';
import { loadContracts } from './context.js';

// The HTML catalogue opened in a real browser: Debian's Chromium (installed by `scripts/services chromium`, which
// scripts/test runs for this package), driven headless through playwright-core. No browser is downloaded and the
// page may load nothing but itself. The screenshot it saves is docs/contracts-catalogue.png.

const SCREENSHOT = join(REPO, 'docs/contracts-catalogue.png');

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The Chromium binary, installing Debian's package through the services script when it is missing. */
function findChromium(): { path?: string; why?: string } {
  const wanted = process.env['SLUICE_TEST_CHROMIUM'] ?? '/usr/bin/chromium';
  if (executable(wanted)) return { path: wanted };
  try {
    const exports = execFileSync('bash', [join(REPO, 'scripts/services'), 'chromium'], {
      cwd: REPO,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 600_000,
    });
    const path = /SLUICE_TEST_CHROMIUM=(\S+)/.exec(exports)?.[1] ?? wanted;
    if (executable(path)) return { path };
    return { why: `scripts/services chromium ran but ${path} is not executable` };
  } catch (error) {
    return { why: `scripts/services chromium could not install Chromium: ${String(error)}` };
  }
}

/** The text as laid out and shown to a reader (Playwright's innerText), not the DOM's raw textContent. */
function renderedText(locator: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: Playwright's Locator.innerText is the rendered text this test checks
  return locator.innerText();
}

const found = findChromium();
const skip = found.path === undefined ? `Chromium is not available (${found.why})` : false;

describe('sluice contracts docs in headless Chromium', { skip }, () => {
  let browser: Browser;
  let page: string;

  before(async () => {
    const dir = tempDir('catalogue');
    // The enrollments service's catalogue, with the catalogue service's events from its lock file.
    const lockFile = join(dir, 'legacy-courses.lock.json');
    const legacy = await loadContracts(EXAMPLES['legacy-courses'].contracts);
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
      'Enrollments and catalogue',
    ]);
    assert.equal(code, 0);
    page = pathToFileURL(join(out, 'index.html')).href;
    browser = await chromium.launch({ executablePath: found.path!, headless: true });
  });

  after(async () => {
    await browser?.close();
  });

  it('shows the events and the keys, with no console error and no request but the page itself', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const tab = await context.newPage();
    const consoleErrors: string[] = [];
    const failed: string[] = [];
    const requests: string[] = [];
    tab.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    tab.on('pageerror', (e) => consoleErrors.push(e.message));
    tab.on('requestfailed', (r) => failed.push(`${r.url()}: ${r.failure()?.errorText}`));
    tab.on('request', (r) => requests.push(r.url()));
    const response = await tab.goto(page, { waitUntil: 'load' });
    assert.ok(response === null || response.ok(), 'the page loads');

    assert.equal(await tab.title(), 'Enrollments and catalogue — event catalogue');
    const created = tab.locator('#enrollment\\.created--v1');
    assert.ok(await created.isVisible(), 'enrollment.created v1 is shown');
    assert.match(await renderedText(created), /A student enrolled in a course\./);
    assert.match(
      await renderedText(created.locator('table.fields')),
      /courseId\s+string\s+yes\s+pattern \^C-\\d\{1,6\}\$/,
    );
    assert.ok(await tab.getByRole('heading', { name: 'Topic catalogue-course-listing' }).isVisible());

    const keyRow = tab.locator('#key--courseId');
    await keyRow.scrollIntoViewIfNeeded();
    assert.ok(await keyRow.isVisible(), 'the courseId key row is shown');
    const keyText = await renderedText(keyRow);
    assert.match(keyText, /course\.published v1 key courseId \(urn:service:catalogue\)/);
    assert.match(keyText, /enrollment\.created v1 field courseId/);

    assert.deepEqual(consoleErrors, []);
    assert.deepEqual(failed, []);
    assert.deepEqual(requests, [page], 'nothing loads but the page itself');

    mkdirSync(join(REPO, 'docs'), { recursive: true });
    await tab.screenshot({ path: SCREENSHOT, fullPage: true });
    assert.ok(statSync(SCREENSHOT).size > 10_000, 'a screenshot with content');
    await context.close();
  });
});
