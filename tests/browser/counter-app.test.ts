// The counter web app a county developer writes (tests/browser/counter-app-page.ts), in the real Chromium
// (Debian), served from its own origin on the county intranet and importing the client the daemon (a process)
// serves: pairing approved with `boxagent token approve`, devices followed live, print with preview and
// Idempotency-Key, the camera stream, guided capture and verify on face photos from ../shared/data/faces,
// a certificate then its seal confirmation, a problem shown to the clerk, a reload mid-job, and the same page
// on an origin the box does not allow. One browser and one daemon for the file; the cases run in order, as a
// clerk's morning would (the page's token is kept in the tab's sessionStorage).
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, siteOrigin, type Site, type TestBrowser } from '../helpers/browser.js';
import {
  postJson,
  removeDir,
  ROOT,
  runCliAsync,
  startDaemon,
  tempDir,
  testEnv,
  writeConfig,
  type Daemon,
} from '../helpers/daemon.js';
import { serveSite, type SiteServer } from '../helpers/site-server.js';
import { waitFor } from '../helpers/wait-for.js';
import { counterAppPage, PRINT_DOCUMENT } from './counter-app-page.js';

const FACES = join(ROOT, '../shared/data/faces/dev/images/Angela_Bassett');
/** What the simulated camera shows in turn, a second each: two photos of one person. */
const CAMERA_IMAGES = ['Angela_Bassett_0001.jpg', 'Angela_Bassett_0005.jpg'];
/** The reference (as from her ID card): another photo of the same person. */
const REFERENCE_IMAGE = join(FACES, 'Angela_Bassett_0004.jpg');

/** The county intranet (a private address), plain http: in http.allowedOrigins. */
const COUNTER = { host: 'counter.example.gov.cn', https: false, addressSpace: 'local' } as const;
/** Another intranet site, not in http.allowedOrigins. */
const STRANGER = { host: 'stranger.county.internal', https: false, addressSpace: 'local' } as const;

const config = (origin: string, cameraFolder: string): string => `box: { id: counter-app-box }
http:
  allowedOrigins: ['${origin}']
supervision: { probeIntervalMs: 200, failuresBeforeError: 1 }
devices:
  - { id: printer-1, kind: printer, name: 针式打印机, transport: { type: simulated } }
  - id: camera-1
    kind: camera
    name: 人脸摄像头
    transport: { type: simulated }
    camera: { simulatedImages: ${JSON.stringify(cameraFolder)}, simulatedHoldSeconds: 1, fps: 10 }
  - { id: photo-printer-1, kind: photo-printer, name: 证卡打印机, transport: { type: simulated } }
  - { id: seal-1, kind: seal, name: 钢印机, transport: { type: simulated }, seal: { simulatedStampDelayMs: 0 } }
`;

const dir = tempDir('boxagent-browser-counter-');
let daemon: Daemon;
let cliEnv: Record<string, string>;
let browser: TestBrowser;
const servers: SiteServer[] = [];
let counterUrl: string;
let strangerUrl: string;
/** The counter page, open through the file (a clerk's tab). */
let page: Page;
let consoleLines: string[];

const text = async (selector: string): Promise<string> => (await page.textContent(selector)) ?? '';
const shot = (name: string): Promise<string> => browser.screenshot(page, name);
/** Waits until the element's text matches. */
async function waitText(selector: string, re: RegExp, timeout = 20_000): Promise<string> {
  try {
    await page.locator(selector).filter({ hasText: re }).waitFor({ timeout });
  } catch (err) {
    // Say what the clerk would have seen instead.
    throw new Error(
      `${selector} never matched ${re}: it says "${await text(selector)}", #error "${await text('#error')}"`,
      { cause: err },
    );
  }
  return text(selector);
}
/** The natural size of an <img> on the page. */
const imageSize = (id: string): Promise<[number, number]> =>
  page.evaluate(
    `(() => { const i = document.getElementById('${id}'); return [i.naturalWidth, i.naturalHeight]; })()`,
  );
const deviceRow = (id: string) => page.locator(`#devices li[data-device="${id}"]`);

async function simulate(device: string, fault: string): Promise<void> {
  const res = await daemon.fetch(`/v1/devices/${device}/simulator`, postJson({ fault }));
  expect(res.status, await res.text()).toBe(200);
}

beforeAll(async () => {
  // The page is filled in once the daemon's address is known; the servers read it per request.
  const pages: Record<string, string> = {};
  const counterServer = await serveSite(pages);
  const strangerServer = await serveSite(pages);
  servers.push(counterServer, strangerServer);
  const counterSite: Site = { ...COUNTER, serverPort: counterServer.port };
  const strangerSite: Site = { ...STRANGER, serverPort: strangerServer.port };
  const cameraFolder = join(dir, 'camera');
  mkdirSync(cameraFolder);
  for (const name of CAMERA_IMAGES) copyFileSync(join(FACES, name), join(cameraFolder, name));
  const configFile = writeConfig(dir, config(siteOrigin(counterSite), cameraFolder));
  const storageDir = join(dir, 'state');
  daemon = await startDaemon({ config: configFile, storageDir });
  cliEnv = testEnv(storageDir, { BOXAGENT_CONFIG: configFile });
  pages['/'] = counterAppPage({
    box: daemon.url,
    printer: 'printer-1',
    camera: 'camera-1',
    photoPrinter: 'photo-printer-1',
    seal: 'seal-1',
  });
  counterUrl = `${siteOrigin(counterSite)}/`;
  strangerUrl = `${siteOrigin(strangerSite)}/`;
  browser = await launchBrowser({ dir, sites: [counterSite, strangerSite] });
  await waitFor('the devices ready', async () => {
    const { devices } = (await (await daemon.fetch('/v1/devices')).json()) as {
      devices: { state: string }[];
    };
    return devices.every((d) => d.state === 'ready');
  });
}, 60_000);

afterAll(async () => {
  // The page's console beside the screenshots, for a look after a failure.
  if (consoleLines) writeFileSync(join(dir, 'screenshots', 'console.txt'), consoleLines.join('\n'));
  // And the daemon's log: a 5xx the page saw is explained there.
  if (daemon)
    writeFileSync(
      join(dir, 'screenshots', 'daemon.log'),
      daemon.logs.map((l) => JSON.stringify(l)).join('\n'),
    );
  await browser?.close();
  await Promise.all(servers.map((s) => s.close()));
  await daemon?.stop('SIGKILL');
  if (daemon) removeDir(daemon.storageDir);
  // Keep the screenshots (dir/screenshots) for a look after a failure; drop the profile and the copied face photos.
  for (const name of ['profile', 'home', 'camera']) rmSync(join(dir, name), { recursive: true, force: true });
});

describe('the counter page on an allowed origin', () => {
  it('pairs: shows a code, the installer approves it on the box, the page gets its token', async () => {
    ({ page, console: consoleLines } = await browser.open(counterUrl));
    // Shorter than the test's own timeout, so a wait that fails says which.
    page.setDefaultTimeout(15_000);
    const shown = await waitText('#pairing', /^配对码 [A-Z0-9]{4}-[A-Z0-9]{4}$/);
    await shot('1-pairing-code');
    const code = shown.replace('配对码 ', '');
    const approved = await runCliAsync(['token', 'approve', code], cliEnv);
    expect(approved.status, approved.stderr).toBe(0);
    await waitText('#pairing', /^paired$/);
    await waitText('#status', /^connected$/);
    // The token is bound to the page's origin.
    const tokens = (await (await daemon.fetch('/v1/tokens')).json()) as {
      tokens: { name: string; origin?: string | null }[];
    };
    expect(tokens.tokens).toContainEqual(
      expect.objectContaining({
        origin: new URL(counterUrl).origin,
        scopes: ['read', 'print', 'face', 'seal'],
      }),
    );
  });

  it('lists the devices and shows a fault as it happens, then the recovery', async () => {
    await deviceRow('printer-1')
      .filter({ hasText: /^针式打印机: ready$/ })
      .waitFor();
    expect(await page.locator('#devices li').count()).toBe(4);
    await simulate('printer-1', 'offline');
    await deviceRow('printer-1').filter({ hasNotText: 'ready' }).waitFor();
    expect(await deviceRow('printer-1').getAttribute('data-state')).toMatch(/^(error|backoff)$/);
    await shot('2-printer-offline');
    await simulate('printer-1', 'none');
    await deviceRow('printer-1').filter({ hasText: '针式打印机: ready' }).waitFor();
  });

  it('previews the print as an image and prints once although the request is retried', async () => {
    await page.click('#preview');
    await page.waitForFunction(`document.getElementById('preview-image').naturalWidth > 0`);
    const size = await imageSize('preview-image');
    // A4 portrait.
    expect(size[1] / size[0]).toBeCloseTo(297 / 210, 1);
    await page.click('#print');
    await waitText('#print-result', /^job /);
    const first = await page.getAttribute('#print-result', 'data-first');
    expect(await page.getAttribute('#print-result', 'data-retry')).toBe(first);
    // The job appears in the list from its events and finishes.
    await page.locator(`#jobs li[data-job="${first}"][data-state="done"]`).waitFor();
    await shot('3-printed');
    const jobs = (await (await daemon.fetch('/v1/print-jobs')).json()) as { jobs: { id: string }[] };
    expect(jobs.jobs.filter((j) => j.id === first)).toHaveLength(1);
    expect(jobs.jobs).toHaveLength(1);
  });

  it('shows the camera stream in a CORS <img>; without crossorigin the bound token is refused', async () => {
    await page.waitForFunction(`document.getElementById('camera').naturalWidth > 0`);
    // The frame on screen, read back through a canvas: readable pixels mean the stream answered the page's
    // Origin with CORS (a tainted canvas would throw).
    const onScreen = () =>
      page.evaluate<{ width: number; height: number; meanLuma: number }>(`(() => {
        const img = document.getElementById('camera');
        const canvas = document.createElement('canvas');
        canvas.width = img.naturalWidth;
        canvas.height = img.naturalHeight;
        const ctx = canvas.getContext('2d');
        ctx.drawImage(img, 0, 0);
        const px = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
        let sum = 0;
        for (let i = 0; i < px.length; i += 4) sum += px[i] + px[i + 1] + px[i + 2];
        return { width: img.naturalWidth, height: img.naturalHeight, meanLuma: sum / (px.length / 4) / 3 };
      })()`);
    const frame = await onScreen();
    expect(frame).toMatchObject({ width: 640, height: 480 });
    expect(frame.meanLuma).toBeGreaterThan(20);
    // A stream, not one picture: the camera turns to its other photo within a couple of seconds, on screen as
    // the clerk sees it (a canvas read-back of the <img> did not show the change here).
    const first = await page.locator('#camera').screenshot();
    await waitFor(
      'another frame on screen',
      async () => !(await page.locator('#camera').screenshot()).equals(first),
      5000,
    );
    // The same URL in a plain <img> goes without Origin: the daemon refuses the Origin-bound token.
    const plain = await page.evaluate<string>(`new Promise((resolve) => {
      const img = document.getElementById('camera-no-cors');
      img.onload = () => resolve('loaded');
      img.onerror = () => resolve('error');
      img.src = document.getElementById('camera').src;
    })`);
    expect(plain).toBe('error');
    await waitFor('the 401 for the stream without Origin in the log', () =>
      daemon.logs.some(
        (l) =>
          l.msg === 'request' && String(l.url).startsWith('/v1/camera/camera-1/stream') && l.status === 401,
      ),
    );
    await shot('4-camera');
  });

  it('takes a guided capture and verifies it against the ID card photo', async () => {
    await page.click('#capture');
    await waitText('#capture-result', /^captured: live$/, 20_000);
    await page.waitForFunction(`document.getElementById('captured').naturalWidth > 0`);
    expect(await imageSize('captured')).toEqual([112, 112]);
    await page.setInputFiles('#reference', REFERENCE_IMAGE);
    await page.click('#verify');
    await waitText('#verify-result', /^decision: /, 20_000);
    expect(await page.getAttribute('#verify-result', 'data-decision')).toBe('match');
    await shot('5-verified');
  });

  it('prints a certificate with the captured photo, then the clerk confirms its seal', async () => {
    await page.click('#certificate');
    await waitText('#certificate-result', /waits for confirmation$/, 30_000);
    expect(await page.getAttribute('#certificate-result', 'data-state')).toBe('printed');
    // Nothing is pressed before the clerk confirms.
    const pending = (await (await daemon.fetch('/v1/seal-jobs')).json()) as { jobs: { state: string }[] };
    expect(pending.jobs.map((j) => j.state)).toEqual(['pending']);
    await page.click('#confirm-seal');
    await waitText('#seal-result', /: done$/);
    await shot('6-sealed');
  });

  it("shows the box's problem to the clerk: its code and its title as served", async () => {
    await page.click('#bad-print');
    const shown = await waitText('#error', /\S/);
    expect(await page.getAttribute('#error', 'data-code')).toBe('not-found');
    // The same request as the page made it (the page asks for zh-CN): the title shown is the one served.
    const served = await daemon.fetch('/v1/print-jobs', {
      ...postJson({ printer: 'printer-9', document: PRINT_DOCUMENT }),
      headers: { 'content-type': 'application/json', 'accept-language': 'zh-CN' },
    });
    const problem = (await served.json()) as { title: string };
    expect(shown).toBe(`not-found: ${problem.title}`);
    // The clerk reads Chinese: the page asked in zh-CN and shows the Chinese title and detail.
    expect(problem.title).toMatch(/[\u4e00-\u9fff]/);
    await shot('7-error');
  });

  it('after a reload mid-job shows the queued job from the snapshot alone', async () => {
    await simulate('printer-1', 'paper-out');
    await page.click('#print');
    await waitText('#print-result', /^job /);
    const job = (await page.getAttribute('#print-result', 'data-first'))!;
    await page.locator(`#jobs li[data-job="${job}"][data-state="queued"]`).waitFor();
    await page.reload();
    await waitText('#status', /^connected$/);
    // No pairing again: the tab kept its token.
    expect(await text('#pairing')).toBe('');
    const row = page.locator(`#jobs li[data-job="${job}"]`);
    expect(await row.textContent()).toBe(`print ${job}: queued`);
    expect(await row.getAttribute('data-source')).toBe('snapshot');
    await shot('8-reloaded-queued');
    // Paper loaded: the job prints and the page sees it from the live events.
    await simulate('printer-1', 'none');
    await page.locator(`#jobs li[data-job="${job}"][data-state="done"][data-source="event"]`).waitFor();
    expect(consoleLines.filter((l) => l.startsWith('pageerror'))).toEqual([]);
  });
});

describe('the same page on an origin the box does not allow', () => {
  it('cannot load the client: the module import fails and the page says so', async () => {
    const { page: stranger, console: messages } = await browser.open(strangerUrl);
    try {
      await stranger
        .locator('#status')
        .filter({ hasText: /^cannot load the box client/ })
        .waitFor();
      expect(await stranger.textContent('#status')).toMatch(
        /^cannot load the box client: TypeError: Failed to fetch dynamically imported module/,
      );
      await browser.screenshot(stranger, '9-stranger');
      expect(messages.join('\n')).toContain("No 'Access-Control-Allow-Origin' header is present");
      expect(daemon.logs).toContainEqual(
        expect.objectContaining({ msg: 'request', url: '/v1/client.js', status: 403 }),
      );
      // And it never got as far as asking to pair.
      const pending = (await (await daemon.fetch('/v1/pairings')).json()) as { pairings: unknown[] };
      expect(pending.pairings).toEqual([]);
    } finally {
      await stranger.close();
    }
  });
});
