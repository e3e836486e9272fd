// The counter web app in the real Chromium 156 (Debian), from each origin a county may serve it from, calling
// the daemon (a process) on 127.0.0.1: what Local Network Access lets through without any policy, and what
// the page sees when it does not (docs/browser-access.md). One browser for the whole file.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, siteOrigin, type Site, type TestBrowser } from '../helpers/browser.js';
import {
  DEFAULT_CONFIG,
  removeDir,
  runCli,
  startDaemon,
  tempDir,
  testEnv,
  type Daemon,
} from '../helpers/daemon.js';
import { makeLocalCa } from '../helpers/local-ca.js';
import { serveSite, type SiteServer } from '../helpers/site-server.js';
import { CONNECTED, counterPage, openCounter } from './counter-page.js';

const dir = tempDir('boxagent-browser-lna-');
let daemon: Daemon;
let browser: TestBrowser;
const servers: SiteServer[] = [];

/** The origins, by how a county deploys the app. */
const site = {
  /** A government site on the internet, over https. */
  govHttps: { host: 'counter.example.gov.cn', https: true, addressSpace: 'public' },
  /** The county intranet (a private address), over https. */
  intranetHttps: { host: 'counter.county.internal', https: true, addressSpace: 'local' },
  /** The county intranet (a private address), plain http. */
  intranetHttp: { host: 'intranet.county.internal', https: false, addressSpace: 'local' },
  /** A site on a public address, plain http. */
  publicHttp: { host: 'counter.example.com', https: false, addressSpace: 'public' },
  /** A site the box does not know (not in http.allowedOrigins). */
  stranger: { host: 'stranger.example.net', https: true, addressSpace: 'public' },
} satisfies Record<string, Omit<Site, 'serverPort'>>;
type SiteName = keyof typeof site;
const sites = {} as Record<SiteName, Site>;

beforeAll(async () => {
  const ca = makeLocalCa(join(dir, 'ca'));
  const certificate = ca.issue(Object.values(site).map((s) => s.host));
  const allowed = (['govHttps', 'intranetHttps', 'intranetHttp', 'publicHttp'] as const).map((n) =>
    siteOrigin({ ...site[n], serverPort: 0 }),
  );
  daemon = await startDaemon({ env: { BOXAGENT_HTTP_ALLOWED_ORIGINS: allowed.join(',') } });
  const env = testEnv(daemon.storageDir, { BOXAGENT_CONFIG: DEFAULT_CONFIG });
  const token = runCli(['token', 'create', '--name', 'counter-app', '--scopes', 'read'], env).stdout.trim();
  const page = { '/': counterPage(daemon.url, token) };
  for (const [name, s] of Object.entries(site) as [SiteName, (typeof site)[SiteName]][]) {
    const server = await serveSite(page, s.https ? certificate : undefined);
    servers.push(server);
    sites[name] = { ...s, serverPort: server.port };
  }
  browser = await launchBrowser({ dir, sites: Object.values(sites), trustedCa: ca.caFile });
});

afterAll(async () => {
  await browser?.close();
  await Promise.all(servers.map((s) => s.close()));
  await daemon?.stop('SIGKILL');
  if (daemon) removeDir(daemon.storageDir);
  // Keep the screenshots (dir/screenshots) for a look after a failure; drop the rest.
  for (const name of ['profile', 'home', 'ca']) rmSync(join(dir, name), { recursive: true, force: true });
});

const counterOf = (name: SiteName, shot: string = name) =>
  openCounter(browser, `${siteOrigin(sites[name])}/`, shot);

describe('a government https site (public address)', () => {
  it('is refused until the clerk allows local network access; the page sees "Failed to fetch"', async () => {
    const seen = await counterOf('govHttps');
    // A clerk would see the prompt here; headless Chromium answers it "block", and the page can read that.
    expect(seen.status).toBe(
      'cannot reach the box: TypeError: Failed to fetch (loopback-network permission: denied)',
    );
    expect(seen.devices).toEqual([]);
    expect(seen.console).toContain(
      'has been blocked by CORS policy: Permission was denied for this request to access the `loopback` address space',
    );
  });

  it('lists the devices once the permission is granted', async () => {
    const origin = siteOrigin(sites.govHttps);
    await browser.context.grantPermissions(['local-network-access'], { origin });
    try {
      const seen = await counterOf('govHttps', 'govHttps-allowed');
      expect(seen.status).toMatch(CONNECTED);
      expect(seen.devices).toContain('Dot-matrix printer (simulated LQ-630K): ready');
    } finally {
      await browser.context.clearPermissions();
    }
  });
});

describe('the county intranet (private address)', () => {
  it('over https lists the devices with no prompt (Chromium 156 does not gate local -> loopback)', async () => {
    const seen = await counterOf('intranetHttps');
    expect(seen.status).toMatch(CONNECTED);
  });

  it('over plain http lists the devices too', async () => {
    const seen = await counterOf('intranetHttp');
    expect(seen.status).toMatch(CONNECTED);
    expect(seen.devices).toContain('Dot-matrix printer (simulated LQ-630K): ready');
  });
});

describe('a plain-http site on a public address', () => {
  it('is blocked outright: not a secure context, and the permission cannot even be granted', async () => {
    const origin = siteOrigin(sites.publicHttp);
    await expect(browser.context.grantPermissions(['local-network-access'], { origin })).rejects.toThrow(
      "Permission can't be granted in current context",
    );
    const seen = await counterOf('publicHttp');
    expect(seen.status).toMatch(/^cannot reach the box: TypeError: Failed to fetch/);
    expect(seen.console).toContain(
      'The request client is not a secure context and the resource is in more-private address space `loopback`',
    );
  });
});

describe('an origin the box does not allow', () => {
  it('gets past the browser but the daemon refuses its preflight; the page sees "Failed to fetch"', async () => {
    const origin = siteOrigin(sites.stranger);
    await browser.context.grantPermissions(['local-network-access'], { origin });
    try {
      const seen = await counterOf('stranger');
      expect(seen.status).toMatch(/^cannot reach the box: TypeError: Failed to fetch/);
      expect(seen.console).toContain("No 'Access-Control-Allow-Origin' header is present");
      expect(daemon.logs).toContainEqual(
        expect.objectContaining({ msg: 'request', method: 'OPTIONS', url: '/v1/devices', status: 403 }),
      );
    } finally {
      await browser.context.clearPermissions();
    }
  });
});
