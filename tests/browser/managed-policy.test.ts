// The managed policy `boxagent service browser-policy` writes, read by the real Chromium 156 (in a private
// mount namespace with a temp folder over /etc/chromium, so the host's /etc is never written; needs root):
// the listed origins reach the box with no prompt, a plain-http one included; others are still refused.
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  launchBrowser,
  preparePolicyRoot,
  siteOrigin,
  type Site,
  type TestBrowser,
} from '../helpers/browser.js';
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

const dir = tempDir('boxagent-browser-policy-');
const storageDir = join(dir, 'state');
const config = join(dir, 'config.yaml');
const env = testEnv(storageDir, { BOXAGENT_CONFIG: config });
let daemon: Daemon;
let browser: TestBrowser;
let policyOutput = '';
const servers: SiteServer[] = [];

const site = {
  /** A government site on a public address, over https: listed in the policy. */
  govHttps: { host: 'counter.example.gov.cn', https: true, addressSpace: 'public' },
  /** A plain-http site on a public address: listed in the policy. */
  publicHttp: { host: 'counter.example.com', https: false, addressSpace: 'public' },
  /** Another government site the box allows, but not in the policy. */
  unlisted: { host: 'other.example.gov.cn', https: true, addressSpace: 'public' },
} satisfies Record<string, Omit<Site, 'serverPort'>>;
type SiteName = keyof typeof site;
const sites = {} as Record<SiteName, Site>;
const originOf = (name: SiteName) => siteOrigin({ ...site[name], serverPort: 0 });

beforeAll(async () => {
  copyFileSync(DEFAULT_CONFIG, config);
  // The box already allows one origin; the policy command adds the two it is given.
  const set = runCli(['config', 'set', 'http.allowedOrigins', JSON.stringify([originOf('unlisted')])], env);
  expect(set.status).toBe(0);
  const managed = preparePolicyRoot(join(dir, 'etc-chromium'));
  const written = runCli(
    [
      'service',
      'browser-policy',
      '--origin',
      originOf('govHttps'),
      '--origin',
      originOf('publicHttp'),
    ].concat(['--dir', managed]),
    env,
  );
  expect(written.stderr).toBe('');
  expect(written.status).toBe(0);
  policyOutput = written.stdout;

  const ca = makeLocalCa(join(dir, 'ca'));
  const certificate = ca.issue(Object.values(site).map((s) => s.host));
  daemon = await startDaemon({ config, storageDir });
  const token = runCli(['token', 'create', '--name', 'counter-app', '--scopes', 'read'], env).stdout.trim();
  const page = { '/': counterPage(daemon.url, token) };
  for (const [name, s] of Object.entries(site) as [SiteName, (typeof site)[SiteName]][]) {
    const server = await serveSite(page, s.https ? certificate : undefined);
    servers.push(server);
    sites[name] = { ...s, serverPort: server.port };
  }
  browser = await launchBrowser({
    dir,
    sites: Object.values(sites),
    trustedCa: ca.caFile,
    policyRoot: join(dir, 'etc-chromium'),
  });
});

afterAll(async () => {
  await browser?.close();
  await Promise.all(servers.map((s) => s.close()));
  await daemon?.stop('SIGKILL');
  for (const name of ['profile', 'home', 'ca', 'state'])
    rmSync(join(dir, name), { recursive: true, force: true });
  if (!daemon) removeDir(dir);
});

const counterOf = (name: SiteName, shot: string = name) =>
  openCounter(browser, `${siteOrigin(sites[name])}/`, shot);

describe('boxagent service browser-policy', () => {
  it('writes the policy and adds the origins to http.allowedOrigins', () => {
    const policy: unknown = JSON.parse(
      readFileSync(join(dir, 'etc-chromium/policies/managed/boxagent.json'), 'utf8'),
    );
    expect(policy).toEqual({
      LoopbackNetworkAllowedForUrls: [originOf('govHttps'), originOf('publicHttp')],
      OverrideSecurityRestrictionsOnInsecureOrigin: [originOf('publicHttp')],
    });
    expect(policyOutput).toContain(
      `added ${originOf('govHttps')} ${originOf('publicHttp')} to http.allowedOrigins`,
    );
    const allowed = runCli(['config', 'get', 'http.allowedOrigins', '--json'], env);
    expect(JSON.parse(allowed.stdout)).toEqual([
      originOf('unlisted'),
      originOf('govHttps'),
      originOf('publicHttp'),
    ]);
  });

  it('is in force in Chromium (chrome://policy shows it without error)', async () => {
    const page = await browser.context.newPage();
    await page.goto('chrome://policy');
    const row = page.locator('.policy.row', { hasText: 'LoopbackNetworkAllowedForUrls' }).first();
    await expect(row.textContent()).resolves.toContain('OK');
    await browser.screenshot(page, 'chrome-policy');
    await page.close();
  });
});

describe('with the policy', () => {
  it('a listed government https site lists the devices with no prompt', async () => {
    const seen = await counterOf('govHttps');
    expect(seen.status).toMatch(CONNECTED);
    expect(seen.devices).toContain('Dot-matrix printer (simulated LQ-630K): ready');
  });

  it('a listed plain-http site on a public address lists the devices too', async () => {
    expect((await counterOf('publicHttp')).status).toMatch(CONNECTED);
  });

  it('a site not in the policy is still refused (the prompt, answered "block" when headless)', async () => {
    const seen = await counterOf('unlisted');
    expect(seen.status).toBe(
      'cannot reach the box: TypeError: Failed to fetch (loopback-network permission: denied)',
    );
    expect(seen.console).toContain(
      'Permission was denied for this request to access the `loopback` address space',
    );
  });
});
