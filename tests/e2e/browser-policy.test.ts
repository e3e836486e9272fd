// `boxagent service browser-policy` as an installer runs it: the file it writes, adding and removing origins,
// and bad input refused with nothing written. (Chromium reading the file: tests/browser/managed-policy.test.ts.)
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, DEFAULT_CONFIG, removeDir, runCli, tempDir, testEnv } from '../helpers/daemon.js';

const dir = tempDir('boxagent-browser-policy-cli-');
const config = join(dir, 'config.yaml');
copyFileSync(DEFAULT_CONFIG, config);
const env = testEnv(join(dir, 'state'), { BOXAGENT_CONFIG: config });
const policyDir = join(dir, 'managed');
const policyFile = join(policyDir, 'boxagent.json');
const policy = (): unknown => JSON.parse(readFileSync(policyFile, 'utf8'));
const cli = (...args: string[]) => runCli(['service', 'browser-policy', ...args, '--dir', policyDir], env);

afterAll(() => removeDir(dir));

describe('boxagent service browser-policy', () => {
  it('normalises origins as the browser sends them, and keeps earlier ones when more are added', () => {
    expect(cli('--origin', 'https://Counter.Example.gov.cn:443/').status).toBe(0);
    const r = cli('--origin', 'http://intranet.county.internal:8080', '--no-update-config');
    expect(r.status).toBe(0);
    expect(policy()).toEqual({
      LoopbackNetworkAllowedForUrls: [
        'https://counter.example.gov.cn',
        'http://intranet.county.internal:8080',
      ],
      OverrideSecurityRestrictionsOnInsecureOrigin: ['http://intranet.county.internal:8080'],
    });
    // --no-update-config leaves the config alone and says what to run.
    expect(r.stdout).toContain(
      'not in http.allowedOrigins (the daemon refuses them): http://intranet.county.internal:8080',
    );
    expect(r.stdout).toContain(
      `boxagent config set http.allowedOrigins '["https://counter.example.gov.cn","http://intranet.county.internal:8080"]'`,
    );
  });

  it('--remove takes origins out, and the file goes when none is left', () => {
    expect(cli('--origin', 'http://intranet.county.internal:8080', '--remove').status).toBe(0);
    expect(policy()).toEqual({ LoopbackNetworkAllowedForUrls: ['https://counter.example.gov.cn'] });
    const last = cli('--origin', 'https://counter.example.gov.cn', '--remove');
    expect(last.stdout).toContain(`removed ${policyFile}`);
    expect(existsSync(policyFile)).toBe(false);
  });

  it.each([
    [
      ['--origin', 'https://counter.example.gov.cn/app'],
      'give the origin only (https://counter.example.gov.cn), without a path',
    ],
    [['--origin', 'file:///tmp/x'], 'only http:// and https:// origins can call the API'],
    [['--origin', 'counter'], 'not a URL'],
    [[], 'give at least one --origin URL'],
  ])('refuses %j with one line and exit 64, writing nothing', (args, message) => {
    const r = cli(...args);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(policyFile)).toBe(false);
  });

  it('writes nothing when the config does not load', () => {
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, 'http: [not, a, map\n');
    const r = runCli(
      ['service', 'browser-policy', '--origin', 'https://a.example.gov.cn', '--dir', policyDir, '-c', broken],
      env,
    );
    expect(r.status).not.toBe(0);
    expect(existsSync(policyFile)).toBe(false);
  });

  it('by default writes the policy where Chromium and Chrome read it', () => {
    // In a private mount namespace with empty tmpfs over /etc/chromium and /etc/opt (root, as on CI), so the
    // host's /etc is never written; the script prints both files as the CLI left them.
    const script =
      'mount -t tmpfs tmpfs /etc/chromium && mount -t tmpfs tmpfs /etc/opt && ' +
      `"${process.execPath}" "${CLI}" service browser-policy --origin https://counter.example.gov.cn >/dev/null && ` +
      'cat /etc/chromium/policies/managed/boxagent.json /etc/opt/chrome/policies/managed/boxagent.json';
    const r = spawnSync('unshare', ['-m', '--', 'sh', '-c', script], { env, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const written = JSON.stringify(
      { LoopbackNetworkAllowedForUrls: ['https://counter.example.gov.cn'] },
      null,
      2,
    );
    expect(r.stdout).toBe(`${written}\n${written}\n`);
  });
});
