// The counter web app in the real Chromium (BENCH_ONLY=browser): the size of the served client
// (GET /v1/client.js, raw and gzip -9) and, over LOADS page loads of tests/browser/counter-app-page.ts (paired
// beforehand, its token in the tab's sessionStorage), the time from navigation start to the device list on
// screen (devices.list) and to the first snapshot event (events.subscribe). The first load is cold (nothing
// cached); the later ones revalidate client.js by ETag, as a clerk's reloads do. Median and max of all.
import { gzipSync } from 'node:zlib';
import { launchBrowser, siteOrigin, type Site, type TestBrowser } from '../tests/helpers/browser.js';
import { postJson, startDaemon, writeConfig, type Daemon } from '../tests/helpers/daemon.js';
import { serveSite, type SiteServer } from '../tests/helpers/site-server.js';
import { waitFor } from '../tests/helpers/wait-for.js';
import { counterAppPage, TOKEN_KEY } from '../tests/browser/counter-app-page.js';
import { removeScratchDir, scratchDir, stopChild, track } from './children.js';
import type { RowFn } from './fleet.js';

const LOADS = 10;
const SITE = { host: 'counter.example.gov.cn', https: false, addressSpace: 'local' } as const;

const config = (origin: string): string => `box: { id: bench-browser }
http: { allowedOrigins: ['${origin}'] }
face: { enabled: false }
devices:
  - { id: printer-1, kind: printer, transport: { type: simulated } }
  - { id: camera-1, kind: camera, transport: { type: simulated }, camera: { width: 320, height: 240, fps: 5 } }
  - { id: photo-printer-1, kind: photo-printer, transport: { type: simulated } }
  - { id: seal-1, kind: seal, transport: { type: simulated } }
`;

const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
const spread = (xs: number[]): string => `${Math.round(median(xs))} / ${Math.round(Math.max(...xs))} ms`;

/** Pairs as the page would (with its Origin) and approves with the admin token: the page's token. */
async function pairedToken(daemon: Daemon, origin: string): Promise<string> {
  const asked = await fetch(`${daemon.url}/v1/pairings`, {
    method: 'POST',
    headers: { origin, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench counter', scopes: ['read', 'print', 'face', 'seal'] }),
  });
  if (asked.status !== 201) throw new Error(`POST /v1/pairings: ${asked.status} ${await asked.text()}`);
  const { id, code } = (await asked.json()) as { id: string; code: string };
  const approved = await daemon.fetch(`/v1/pairings/${code}/approve`, postJson({}));
  if (!approved.ok) throw new Error(`approve: ${approved.status} ${await approved.text()}`);
  const polled = await fetch(`${daemon.url}/v1/pairings/${id}`, { headers: { origin } });
  const { token } = (await polled.json()) as { token?: string };
  if (!token) throw new Error('the approved pairing gave no token');
  return token;
}

export async function benchBrowser(row: RowFn, progress: (msg: string) => void): Promise<void> {
  const dir = scratchDir('boxagent-bench-browser-');
  const pages: Record<string, string> = {};
  let daemon: Daemon | undefined;
  let site: SiteServer | undefined;
  let browser: TestBrowser | undefined;
  try {
    site = await serveSite(pages);
    const counter: Site = { ...SITE, serverPort: site.port };
    const origin = siteOrigin(counter);
    daemon = await startDaemon({ config: writeConfig(dir, config(origin)), storageDir: dir });
    track(daemon.proc, 'boxagent daemon');

    const js = Buffer.from(await (await daemon.fetch('/v1/client.js', { token: null })).arrayBuffer());
    row('client bundle GET /v1/client.js', kb(js.length), `${js.length} bytes, ES module as served`);
    const gz = gzipSync(js, { level: 9 }).length;
    row('client bundle, gzip -9', kb(gz), `${gz} bytes (the daemon serves it uncompressed on loopback)`);

    pages['/'] = counterAppPage({
      box: daemon.url,
      printer: 'printer-1',
      camera: 'camera-1',
      photoPrinter: 'photo-printer-1',
      seal: 'seal-1',
    });
    const token = await pairedToken(daemon, origin);
    await waitFor('the devices ready', async () => {
      const { devices } = (await (await daemon!.fetch('/v1/devices')).json()) as {
        devices: { state: string }[];
      };
      return devices.every((d) => d.state === 'ready');
    });
    progress('browser: launching chromium');
    browser = await launchBrowser({ dir, sites: [counter] });
    // The tab already paired: its token is in sessionStorage before the page's script runs.
    await browser.context.addInitScript(
      `try { sessionStorage.setItem(${JSON.stringify(TOKEN_KEY)}, ${JSON.stringify(token)}); } catch {}`,
    );
    const devices: number[] = [];
    const snapshots: number[] = [];
    for (let i = 1; i <= LOADS; i++) {
      progress(`browser: page load ${i}/${LOADS}`);
      const { page } = await browser.open(`${origin}/`);
      await page.waitForFunction('window.counterTimings?.devices && window.counterTimings?.snapshot', null, {
        timeout: 30_000,
      });
      const t = await page.evaluate<{ devices: number; snapshot: number }>('window.counterTimings');
      devices.push(t.devices);
      snapshots.push(t.snapshot);
      await page.close();
    }
    const notes = `${LOADS} loads in Chromium (Debian, headless), page on a second origin; first load cold`;
    row('page load → device list shown (median / max)', spread(devices), notes);
    row(
      'page load → first snapshot event (median / max)',
      spread(snapshots),
      'events.subscribe, EventSource',
    );
    row(
      'first (cold) load: device list / snapshot',
      `${Math.round(devices[0]!)} / ${Math.round(snapshots[0]!)} ms`,
    );
  } finally {
    await browser?.close();
    await site?.close();
    if (daemon) await stopChild(daemon.proc);
    removeScratchDir(dir);
  }
}
