// The box's own local page (GET /) in the real Chromium (Debian), against the daemon as a process: logging in
// with the one-time link `boxagent admin-link` prints, the device list in Chinese and English, approving a
// page's pairing, a test print with its preview and its job, the camera; and the login link's security (a
// used or expired link is refused, the session is bound to the page's origin). One browser for the file.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminLinkService, ADMIN_LINK_TTL_MS } from '../../agent/auth/admin-link-service.js';
import { TokenService } from '../../agent/auth/token-service.js';
import { Store } from '../../agent/store/store.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import {
  DEFAULT_CONFIG,
  postJson,
  removeDir,
  runCli,
  startDaemon,
  tempDir,
  testEnv,
  type Daemon,
} from '../helpers/daemon.js';
import { rawRequest } from '../helpers/raw-http.js';

/** A counter web app's origin, allowed to ask for pairing. */
const COUNTER = 'https://counter.example.gov.cn';
const PRINTER = 'Dot-matrix printer (simulated LQ-630K)';

const dir = tempDir('boxagent-browser-local-page-');
let daemon: Daemon;
let browser: TestBrowser;
let cliEnv: Record<string, string>;

beforeAll(async () => {
  daemon = await startDaemon({ env: { BOXAGENT_HTTP_ALLOWED_ORIGINS: COUNTER } });
  // The CLI prints the link for the port the daemon listens on (here an ephemeral one).
  cliEnv = testEnv(daemon.storageDir, {
    BOXAGENT_CONFIG: DEFAULT_CONFIG,
    BOXAGENT_HTTP_PORT: new URL(daemon.url).port,
  });
  browser = await launchBrowser({ dir });
});

afterAll(async () => {
  await browser?.close();
  await daemon?.stop('SIGKILL');
  if (daemon) removeDir(daemon.storageDir);
  // Keep the screenshots (dir/screenshots) for a look after a failure; drop the rest.
  for (const name of ['profile', 'home']) rmSync(join(dir, name), { recursive: true, force: true });
});

function adminLink(): string {
  const r = runCli(['admin-link'], cliEnv);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout.trim();
}

/** Opens a fresh admin link and waits for the device list. */
async function loggedIn(): Promise<Page> {
  const { page } = await browser.open(adminLink());
  await page.locator('#devices tr[data-device="printer-1"]').waitFor();
  return page;
}

const text = async (page: Page, selector: string): Promise<string> =>
  ((await page.locator(selector).first().textContent()) ?? '').trim();

/** Asks for pairing as a counter page's fetch does (with its Origin). */
async function requestPairing(name: string): Promise<{ id: string; code: string }> {
  const res = await rawRequest(`${daemon.url}/v1/pairings`, {
    method: 'POST',
    headers: { origin: COUNTER, 'content-type': 'application/json' },
    body: JSON.stringify({ name, scopes: ['read', 'print'] }),
  });
  expect(res.status).toBe(201);
  return JSON.parse(res.body) as { id: string; code: string };
}

function exchange(secret: string, origin = daemon.url) {
  return rawRequest(`${daemon.url}/v1/admin-sessions`, {
    method: 'POST',
    headers: { origin, 'content-type': 'application/json' },
    body: JSON.stringify({ secret }),
  });
}

interface ImageLike {
  hidden: boolean;
  naturalWidth: number;
}
/** Waits until the image `id` is visible with a decoded picture (tsc here has no DOM types; the page's CSP
 * forbids evaluating strings, so this is a function). */
const pictureShown = (page: Page, id: string) =>
  page.waitForFunction((imageId) => {
    const doc = (globalThis as unknown as { document: { getElementById(i: string): ImageLike } }).document;
    const img = doc.getElementById(imageId);
    return !img.hidden && img.naturalWidth > 0;
  }, id);

const secretOf = (link: string): string => new URL(link).hash.replace(/^#login=/, '');

describe('the local page', () => {
  it('logs in with the admin link, shows the devices in Chinese, and switches to English (remembered)', async () => {
    const link = adminLink();
    expect(link).toMatch(new RegExp(`^${daemon.url}/#login=[A-Za-z0-9_-]{43}$`));
    const { page, console } = await browser.open(link);
    const printerRow = page.locator('#devices tr[data-device="printer-1"]');
    await printerRow.filter({ hasText: '就绪' }).waitFor();
    expect(await text(page, 'h1')).toBe('本机管理');
    expect(await printerRow.textContent()).toContain(PRINTER);
    // The secret is gone from the address bar; the session is kept for this tab only.
    expect(page.url()).toBe(`${daemon.url}/`);
    const kept = await page.evaluate<string | null>("sessionStorage.getItem('boxagent.adminSession')");
    expect((JSON.parse(kept ?? '{}') as { token?: string }).token).toMatch(/^bxa_/);
    await browser.screenshot(page, 'local-page-zh');

    await page.click('#locale');
    await printerRow.filter({ hasText: 'ready' }).waitFor();
    expect(await text(page, 'h1')).toBe('Box administration');
    await page.reload();
    await printerRow.filter({ hasText: 'ready' }).waitFor();
    expect(await text(page, 'h1')).toBe('Box administration');
    await browser.screenshot(page, 'local-page-en');
    await page.click('#locale');
    await printerRow.filter({ hasText: '就绪' }).waitFor();
    expect(console.filter((m) => m.startsWith('error') || m.startsWith('pageerror'))).toEqual([]);
    await page.close();
  });

  it("shows a device's state change live (a fault injected into the simulated seal machine)", async () => {
    const page = await loggedIn();
    const row = page.locator('#devices tr[data-device="seal-1"]');
    await row.filter({ hasText: '就绪' }).waitFor();
    const unplug = await daemon.fetch('/v1/devices/seal-1/simulator', postJson({ fault: 'unplugged' }));
    expect(unplug.status).toBe(200);
    await row.filter({ hasText: '未连接' }).waitFor();
    await browser.screenshot(page, 'local-page-device-absent');
    await daemon.fetch('/v1/devices/seal-1/simulator', postJson({ fault: 'none' }));
    await row.filter({ hasText: '就绪' }).waitFor();
    await page.close();
  });

  it("shows a page's pairing request live; approving it there removes it and the page gets its token", async () => {
    const page = await loggedIn();
    const asked = await requestPairing('窗口 3 <b>counter</b>');
    const item = page.locator(`#pairings li[data-code="${asked.code}"]`);
    await item.waitFor();
    // The name is whatever the asking page chose: shown as text, never as HTML.
    expect(await item.textContent()).toContain('窗口 3 <b>counter</b>');
    expect(await item.textContent()).toContain(COUNTER);
    await browser.screenshot(page, 'local-page-pairing');
    await item.locator('button[data-action="approve"]').click();
    await item.waitFor({ state: 'detached' });

    const poll = await rawRequest(`${daemon.url}/v1/pairings/${asked.id}`, { headers: { origin: COUNTER } });
    const status = JSON.parse(poll.body) as { state: string; token?: string };
    expect(status.state).toBe('approved');
    expect(status.token).toMatch(/^bxa_/);

    // One approved with the CLI (its event reaches this stream only on a replay) goes away too.
    const other = await requestPairing('窗口 4');
    const otherItem = page.locator(`#pairings li[data-code="${other.code}"]`);
    await otherItem.waitFor();
    expect(runCli(['token', 'approve', other.code], cliEnv).status).toBe(0);
    await otherItem.waitFor({ state: 'detached', timeout: 15_000 });
    await page.close();
  });

  it('previews a test print, prints it, and shows the job with its state', async () => {
    const page = await loggedIn();
    await page.click('#preview');
    await pictureShown(page, 'preview-image');
    expect(await page.getAttribute('#preview-image', 'src')).toMatch(/^blob:/);
    await page.click('#print');
    await page.locator('#print-result').filter({ hasText: '已提交打印任务' }).waitFor();
    const id = (await text(page, '#print-result')).replace('已提交打印任务', '').trim();
    const row = page.locator(`#jobs tr[data-job="${id}"]`);
    await row.filter({ hasText: '已完成' }).waitFor();
    expect(await row.textContent()).toContain(PRINTER);
    await browser.screenshot(page, 'local-page-print');
    // The job was submitted under an Idempotency-Key: the same key again is a replay, not a second job.
    const jobs = await (await daemon.fetch('/v1/print-jobs')).json();
    expect((jobs as { jobs: { id: string }[] }).jobs.filter((j) => j.id === id)).toHaveLength(1);
    await page.close();
  });

  it("shows the camera's picture", async () => {
    const page = await loggedIn();
    await page.click('#camera-toggle');
    await pictureShown(page, 'camera-view');
    await browser.screenshot(page, 'local-page-camera');
    await page.click('#camera-toggle');
    await page.close();
  });
});

describe('the admin login link (security)', () => {
  it('cannot be used twice: a replayed link is refused, in the page and over HTTP', async () => {
    const link = adminLink();
    const first = await browser.open(link);
    await first.page.locator('#devices tr[data-device="printer-1"]').waitFor();

    const replay = await browser.open(link);
    await replay.page
      .locator('#message')
      .filter({ hasText: '登录失败：登录链接无效、已用过或已过期' })
      .waitFor();
    expect(await replay.page.isHidden('#admin')).toBe(true);
    await browser.screenshot(replay.page, 'local-page-replayed-link');
    const again = await exchange(secretOf(link));
    expect(again.status).toBe(401);
    expect(JSON.parse(again.body)).toMatchObject({ type: 'urn:boxagent:problem:unauthorized' });
    await first.page.close();
    await replay.page.close();
  });

  it('expires: a link older than its time is refused', async () => {
    // Made by the real service with its clock set back past the link's lifetime, as if printed 11 minutes ago.
    const store = Store.open(daemon.storageDir);
    let secret: string;
    try {
      const past = () => new Date(Date.now() - ADMIN_LINK_TTL_MS - 60_000);
      secret = new AdminLinkService(store, new TokenService(store), past).create('test').secret;
    } finally {
      store.close();
    }
    const { page } = await browser.open(`${daemon.url}/#login=${secret}`);
    await page.locator('#message').filter({ hasText: '登录失败' }).waitFor();
    expect(await page.isHidden('#admin')).toBe(true);
    expect((await exchange(secret)).status).toBe(401);
    await page.close();
  });

  it("is exchanged only by the box's own page, and its session works only from there", async () => {
    const secret = secretOf(adminLink());
    // Another origin, even an allowed one, cannot exchange it (and does not use it up).
    expect((await exchange(secret, COUNTER)).status).toBe(403);
    const res = await exchange(secret);
    expect(res.status).toBe(201);
    const { token } = JSON.parse(res.body) as { token: string };
    const call = (headers: Record<string, string>) =>
      rawRequest(`${daemon.url}/v1/pairings`, { headers: { authorization: `Bearer ${token}`, ...headers } });
    expect((await call({ origin: daemon.url })).status).toBe(200);
    // A same-origin GET from the page: no Origin, but the browser says so.
    expect((await call({ 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    expect((await call({ origin: COUNTER })).status).toBe(401);
    expect((await call({ 'sec-fetch-site': 'cross-site' })).status).toBe(401);
    expect((await call({})).status).toBe(401);
  });

  it('throttles failed exchanges', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) statuses.push((await exchange('A'.repeat(43))).status);
    expect(statuses[0]).toBe(401);
    expect(statuses).toContain(429);
  });
});
