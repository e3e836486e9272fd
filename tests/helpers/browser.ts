// The real Debian Chromium (/usr/bin/chromium) driven by playwright-core; no browser is ever downloaded, and a
// missing chromium fails the test (CI installs it). One browser per test file: launch it in beforeAll, open a
// page per case. What a page origin is, as far as Local Network Access goes, is set up here:
// - host names map to the test's servers with --host-resolver-rules, so origins are real-looking
//   (https://counter.example.gov.cn, default port) while the servers listen on 127.0.0.1 ephemeral ports;
// - each server's address is classified public or local with --ip-address-space-overrides (IP:port), as it
//   would be for a site on a public or private address;
// - https trust comes from an NSS database in the browser's own $HOME (tests/helpers/local-ca.ts);
// - managed policies come from a folder bind-mounted over /etc/chromium in a private mount namespace
//   (`unshare -m`, root), so the real /etc is never written.
import { existsSync, mkdirSync, readdirSync, copyFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { trustCaInNss } from './local-ca.js';

export const CHROMIUM = '/usr/bin/chromium';
/** The folder Debian's chromium reads machine policies under (policies/managed/*.json). */
const CHROMIUM_ETC = '/etc/chromium';

export type AddressSpace = 'public' | 'local' | 'loopback';

export interface Site {
  /** Host name the page is opened under, e.g. counter.example.gov.cn. */
  host: string;
  /** Port in the URL (default 443 for https, 80 for http). */
  port?: number;
  https: boolean;
  /** Where the test's server listens (always 127.0.0.1). */
  serverPort: number;
  /** How Chromium classifies the server's address. */
  addressSpace: AddressSpace;
}

export interface BrowserOptions {
  /** A fresh temp folder: profile, $HOME, screenshots (and the policy root) go here. */
  dir: string;
  /** The sites pages are opened from (none: only 127.0.0.1/localhost URLs resolve). */
  sites?: Site[];
  /** A CA certificate (PEM) the browser trusts for https, through NSS. */
  trustedCa?: string;
  /**
   * Run with managed policies from `policyRoot/policies/managed/` (bind-mounted over /etc/chromium). Write
   * the policy files there before launching; `policyRoot` is made by `preparePolicyRoot`.
   */
  policyRoot?: string;
  args?: string[];
}

export interface OpenedPage {
  page: Page;
  /** Console messages, "type: text", in order. */
  console: string[];
}

export interface TestBrowser {
  context: BrowserContext;
  /** Opens `url` in a new tab, recording its console. */
  open(url: string): Promise<OpenedPage>;
  /** A screenshot under `dir/screenshots/<name>.png`; returns its path. */
  screenshot(page: Page, name: string): Promise<string>;
  close(): Promise<void>;
}

export function siteOrigin(site: Site): string {
  const scheme = site.https ? 'https' : 'http';
  const port = site.port ?? (site.https ? 443 : 80);
  return port === (site.https ? 443 : 80) ? `${scheme}://${site.host}` : `${scheme}://${site.host}:${port}`;
}

/** The command-line switches that place each site at its server and in its address space. */
export function siteSwitches(sites: Site[]): string[] {
  const rules = sites.map((s) => `MAP ${s.host}:${s.port ?? (s.https ? 443 : 80)} 127.0.0.1:${s.serverPort}`);
  // Any other name fails at once instead of waiting on a DNS server the test machine may not have.
  rules.push('MAP * ~NOTFOUND', 'EXCLUDE 127.0.0.1', 'EXCLUDE localhost');
  const spaces = sites.map((s) => `127.0.0.1:${s.serverPort}=${s.addressSpace}`);
  const switches = [`--host-resolver-rules=${rules.join(', ')}`];
  if (spaces.length > 0) switches.push(`--ip-address-space-overrides=${spaces.join(',')}`);
  return switches;
}

/**
 * A copy of /etc/chromium under `dir` with an empty `policies/managed/`, to be bind-mounted over the real
 * one. Returns the managed-policy folder to write into.
 */
export function preparePolicyRoot(root: string): string {
  const managed = join(root, 'policies/managed');
  mkdirSync(managed, { recursive: true });
  if (!existsSync(CHROMIUM_ETC))
    throw new Error(`${CHROMIUM_ETC} is missing: is Debian's chromium installed?`);
  for (const name of readdirSync(CHROMIUM_ETC)) {
    if (name !== 'policies') copyFileSync(join(CHROMIUM_ETC, name), join(root, name));
  }
  return managed;
}

/** A launcher that runs chromium in its own mount namespace with `root` over /etc/chromium. */
function namespacedLauncher(dir: string, root: string): string {
  if (process.getuid?.() !== 0)
    throw new Error('a managed-policy browser test needs root (unshare -m, mount)');
  const file = join(dir, 'chromium-with-policies.sh');
  // unshare makes mounts private to the new namespace: nothing is mounted on the host.
  writeFileSync(
    file,
    '#!/bin/sh\n' +
      `exec unshare -m -- sh -c 'mount --bind "$0" ${CHROMIUM_ETC} && exec ${CHROMIUM} "$@"' '${root}' "$@"\n`,
  );
  chmodSync(file, 0o755);
  return file;
}

export async function launchBrowser(opts: BrowserOptions): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: install the Debian package chromium (never downloaded by tests)`);
  }
  const home = join(opts.dir, 'home');
  mkdirSync(home, { recursive: true });
  if (opts.trustedCa) trustCaInNss(home, opts.trustedCa);
  const screenshots = join(opts.dir, 'screenshots');
  mkdirSync(screenshots, { recursive: true });
  const context = await chromium.launchPersistentContext(join(opts.dir, 'profile'), {
    executablePath: opts.policyRoot ? namespacedLauncher(opts.dir, opts.policyRoot) : CHROMIUM,
    headless: true,
    env: { ...process.env, HOME: home },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...siteSwitches(opts.sites ?? []),
      ...(opts.args ?? []),
    ],
  });
  return {
    context,
    async open(url) {
      const page = await context.newPage();
      const messages: string[] = [];
      page.on('console', (m) => messages.push(`${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => messages.push(`pageerror: ${e.message}`));
      await page.goto(url);
      return { page, console: messages };
    },
    async screenshot(page, name) {
      const file = join(screenshots, `${name}.png`);
      await page.screenshot({ path: file });
      return file;
    },
    close: () => context.close(),
  };
}
