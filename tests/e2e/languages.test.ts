// Texts a clerk reads come in Chinese or English, chosen by the request: the built daemon answers the same
// failing request with a Chinese title and detail by default (box.locale zh-CN) and in English for
// `Accept-Language: en` (q-values honoured), always with the same `type` code; a box configured with
// `BOXAGENT_BOX_LOCALE=en` answers in English unless asked for Chinese. The CLI prints the daemon's problem
// texts in the terminal's language.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, removeDir, runCli, startDaemon, testEnv, type Daemon } from '../helpers/daemon.js';

const PROBLEM = 'application/problem+json';

interface ProblemDoc {
  type: string;
  title: string;
  status: number;
  detail?: string;
  field?: string;
}

async function problemFor(daemon: Daemon, path: string, headers: Record<string, string> = {}, token?: null) {
  const res = await daemon.fetch(path, { headers, ...(token === null ? { token: null } : {}) });
  expect(res.headers.get('content-type')).toContain(PROBLEM);
  expect(res.headers.get('vary')).toMatch(/Accept-Language/i);
  return { status: res.status, body: (await res.json()) as ProblemDoc };
}

const NOT_FOUND = {
  zh: { title: '找不到所请求的对象', detail: '没有设备“printer-9”' },
  en: { title: 'No such resource', detail: 'no device "printer-9"' },
};

describe('the language of problem texts', () => {
  let chinese: Daemon;
  let english: Daemon;

  beforeAll(async () => {
    [chinese, english] = await Promise.all([
      startDaemon(),
      startDaemon({ env: { BOXAGENT_BOX_LOCALE: 'en' } }),
    ]);
  });

  afterAll(async () => {
    for (const d of [chinese, english]) {
      if (!d) continue;
      await d.stop();
      removeDir(d.storageDir);
    }
  });

  it('is Chinese by default and English for Accept-Language: en, with the same type code', async () => {
    const zh = await problemFor(chinese, '/v1/devices/printer-9');
    const en = await problemFor(chinese, '/v1/devices/printer-9', { 'accept-language': 'en' });
    expect(zh.status).toBe(404);
    expect(en.status).toBe(404);
    expect(zh.body).toMatchObject({ type: 'urn:boxagent:problem:not-found', field: '/id', ...NOT_FOUND.zh });
    expect(en.body).toMatchObject({ type: 'urn:boxagent:problem:not-found', field: '/id', ...NOT_FOUND.en });
  });

  it.each([
    ['en-US,en;q=0.9', NOT_FOUND.en],
    ['zh-CN,zh;q=0.9', NOT_FOUND.zh],
    ['zh-CN;q=0.2, en;q=0.8', NOT_FOUND.en],
    ['fr-FR, en;q=0.5, zh;q=0.4', NOT_FOUND.en],
    ['fr-FR', NOT_FOUND.zh],
  ])('reads q-values: %j', async (header, expected) => {
    const { body } = await problemFor(chinese, '/v1/devices/printer-9', { 'accept-language': header });
    expect(body).toMatchObject({ type: 'urn:boxagent:problem:not-found', ...expected });
  });

  it('covers problems raised before the operation runs (no token)', async () => {
    const zh = await problemFor(chinese, '/v1/devices', {}, null);
    const en = await problemFor(chinese, '/v1/devices', { 'accept-language': 'en' }, null);
    expect(zh.status).toBe(401);
    expect(zh.body).toMatchObject({
      type: 'urn:boxagent:problem:unauthorized',
      title: '需要有效的访问令牌',
      detail: '请在请求中带上 Authorization: Bearer <令牌>',
    });
    expect(en.body).toMatchObject({
      type: 'urn:boxagent:problem:unauthorized',
      title: 'A valid bearer token is required',
      detail: 'send Authorization: Bearer <token>',
    });
  });

  it('follows box.locale (env override) when the request names no language', async () => {
    const en = await problemFor(english, '/v1/devices/printer-9');
    const zh = await problemFor(english, '/v1/devices/printer-9', { 'accept-language': 'zh-CN' });
    expect(en.body).toMatchObject({ type: 'urn:boxagent:problem:not-found', ...NOT_FOUND.en });
    expect(zh.body).toMatchObject({ type: 'urn:boxagent:problem:not-found', ...NOT_FOUND.zh });
  });

  it("the CLI prints the daemon's refusal in the terminal's language, its own words in English", () => {
    const env = testEnv(chinese.storageDir, {
      BOXAGENT_CONFIG: DEFAULT_CONFIG,
      BOXAGENT_HTTP_PORT: new URL(chinese.url).port,
    });
    const zh = runCli(['devices', 'test', 'printer-9'], { ...env, LANG: 'zh_CN.UTF-8' });
    const en = runCli(['devices', 'test', 'printer-9'], { ...env, LANG: 'C.UTF-8' });
    expect(zh.status).not.toBe(0);
    expect(zh.stderr).toContain('the daemon refused: 没有设备“printer-9”');
    expect(en.stderr).toContain('the daemon refused: no device "printer-9"');
  });
});
