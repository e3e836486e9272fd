// Signed agent updates with rollback, end to end. The box runs as on a real install minus systemd: the
// launcher's entry (the packaged tree's dist/agent/update/boot.js) is spawned with `run`, and a small
// supervisor here restarts it after a non-zero exit other than 65/78, as `Restart=on-failure` would (that
// supervisor is the only stand-in). The releases are real builds of this worktree: copies of dist/ and
// config/ with package.json's version bumped (0.2.0; 0.3.0 whose main script throws at start; 0.4.0 that
// starts but never becomes ready), packed by the release builder and served by an HTTP server in the test
// that honours Range and can cut a response short. Calls go through real mosquitto and the FleetClient,
// signed with a fleet key; releases are signed with a release key.
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import {
  chmodSync,
  readdirSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventMessage, RpcReply } from '../../agent/fleet/contract.js';
import { FleetClient, type SigningKey } from '../../agent/fleet/operator/fleet-client.js';
import { buildReleaseTarball, type ReleaseTarball } from '../../agent/update/release-tarball.js';
import { signRelease } from '../../agent/update/release-signing.js';
import { removeDir, ROOT, runCliAsync, tempDir } from '../helpers/daemon.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/wait-for.js';

const BOX = 'update-box';
const fleetKey = generateKeyPairSync('ed25519');
const releaseKey = generateKeyPairSync('ed25519');
const otherKey = generateKeyPairSync('ed25519');
const raw = (k: typeof fleetKey.publicKey) =>
  k.export({ format: 'der', type: 'spki' }).subarray(12).toString('base64');
const sign: SigningKey = { keyId: 'ops', privateKey: fleetKey.privateKey };

let work: string;
let broker: Mosquitto;
let fleet: FleetClient;
let server: Server;
let baseUrl: string;
let box: Supervised;
const served: { path: string; range?: string }[] = [];
/** Paths whose next response is cut after this many bytes (once). */
const cutOnce = new Map<string, number>();
const releases: Record<string, ReleaseTarball> = {};
const events: EventMessage[] = [];

/** An app tree copied from this worktree's build, with its own version; `main` replaces its main script. */
function appTree(dir: string, version: string, main?: string): string {
  mkdirSync(dir, { recursive: true });
  cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
  cpSync(join(ROOT, 'config'), join(dir, 'config'), { recursive: true });
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ ...pkg, version }, null, 2));
  if (main !== undefined) writeFileSync(join(dir, 'dist/agent/cli/main.js'), main);
  return dir;
}

interface Supervised {
  logs: { level: number; msg: string; [k: string]: unknown }[];
  exits: (number | null)[];
  proc(): ChildProcess;
  stop(): Promise<void>;
}

/** Runs the launcher entry and starts it again after a failure exit, like systemd's Restart=on-failure. */
function supervise(entry: string, args: string[], env: Record<string, string>): Supervised {
  const logs: Supervised['logs'] = [];
  const exits: (number | null)[] = [];
  let child: ChildProcess;
  let stopping = false;
  const start = (): void => {
    child = spawn(process.execPath, [entry, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let partial = '';
    child.stdout?.on('data', (c: Buffer) => {
      const lines = (partial + c.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) if (l.startsWith('{')) logs.push(JSON.parse(l) as Supervised['logs'][number]);
    });
    child.stderr?.on('data', (c: Buffer) => logs.push({ level: 50, msg: `stderr: ${c.toString('utf8')}` }));
    child.on('exit', (code) => {
      exits.push(code);
      if (!stopping && code !== 0 && code !== 65 && code !== 78) setTimeout(start, 200);
    });
  };
  start();
  return {
    logs,
    exits,
    proc: () => child,
    async stop() {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function serveReleases(dir: string): Promise<Server> {
  const s = createServer((req, res) => {
    const path = req.url ?? '/';
    served.push({ path, range: req.headers.range });
    const file = join(dir, path.slice(1));
    if (!/^\/[\w.-]+$/.test(path) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    const body = readFileSync(file);
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const from = m ? Number(m[1]) : 0;
    const part = body.subarray(from);
    res.writeHead(m ? 206 : 200, {
      'content-length': part.length,
      ...(m ? { 'content-range': `bytes ${from}-${body.length - 1}/${body.length}` } : {}),
    });
    const cut = cutOnce.get(path);
    if (cut !== undefined) {
      cutOnce.delete(path);
      // The headers promise the whole file; the connection drops after `cut` bytes.
      res.write(part.subarray(0, cut), () => res.socket?.destroy());
      return;
    }
    res.end(part);
  });
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r(s)));
}

function releaseParams(r: ReleaseTarball, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: r.version,
    url: `${baseUrl}/${r.file.split('/').pop() ?? ''}`,
    sha256: r.sha256,
    size: r.size,
    releaseKeyId: 'city-release',
    releaseSignature: signRelease(releaseKey.privateKey, r),
    ...extra,
  };
}

/** A private key as `boxagent fleet keys create` writes it (PKCS#8 PEM), named for its key id. */
function keyFile(id: string, key: typeof fleetKey.privateKey): string {
  const file = join(work, `${id}.key`);
  writeFileSync(file, key.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  return file;
}

const call = (operation: string, params: Record<string, unknown> = {}): Promise<RpcReply> =>
  fleet.call(BOX, operation, params, { sign, timeoutMs: 15_000 });

const tokenIds = (r: RpcReply): string[] =>
  r.ok ? (r.result as { tokens: { id: string }[] }).tokens.map((t) => t.id) : [];

async function version(): Promise<string> {
  const reply = await call('agent.info');
  if (!reply.ok) throw new Error(JSON.stringify(reply.error));
  return (reply.result as { version: string }).version;
}

/** The `update.job` states of one update, in the order the fleet received them. */
const statesOf = (updateId: string): string[] =>
  events
    .filter((e) => e.type === 'update.job' && (e.payload as { job: string }).job === updateId)
    .map((e) => (e.payload as { state: string }).state);

async function waitForState(updateId: string, state: string, timeoutMs = 40_000): Promise<void> {
  await waitFor(`update ${updateId} to be ${state}`, () => statesOf(updateId).includes(state), timeoutMs);
}

let releasesDir: string;
let stateDir: string;

beforeAll(async () => {
  work = tempDir('boxagent-update-');
  // The packaged tree (what the .deb installs) and the builds the fleet sends.
  const packaged = appTree(join(work, 'app'), '0.1.0');
  symlinkSync(join(ROOT, 'node_modules'), join(packaged, 'node_modules'));
  const dist = join(work, 'dist');
  mkdirSync(dist);
  releases.v2 = buildReleaseTarball(appTree(join(work, 'build-0.2.0'), '0.2.0'), dist);
  releases.v3 = buildReleaseTarball(
    appTree(join(work, 'build-0.3.0'), '0.3.0', "throw new Error('0.3.0 is broken: it crashes at start');\n"),
    dist,
  );
  releases.v4 = buildReleaseTarball(
    appTree(join(work, 'build-0.4.0'), '0.4.0', 'setInterval(() => undefined, 1000); // never ready\n'),
    dist,
  );
  releases.v1 = buildReleaseTarball(packaged, dist, { exclude: ['node_modules'] });
  // 0.5.0 migrates state.db to a schema 0.2.0 does not know, then crashes.
  releases.v5 = buildReleaseTarball(
    appTree(
      join(work, 'build-0.5.0'),
      '0.5.0',
      [
        "import Database from 'better-sqlite3';",
        `const db = new Database(${JSON.stringify(join(work, 'var-lib', 'state', 'state.db'))});`,
        "db.exec('CREATE TABLE from_the_future (x INTEGER)');",
        "db.pragma('user_version = ' + (Number(db.pragma('user_version', { simple: true })) + 1));",
        'db.close();',
        "throw new Error('0.5.0 crashes after migrating');",
        '',
      ].join('\n'),
    ),
    dist,
  );
  server = await serveReleases(dist);
  const addr = server.address();
  baseUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;

  // The box's /var/lib/boxagent: state and releases. Unpacked releases find the packages by walking up, as
  // the real ones find their own node_modules (the test builds are packed without them).
  const varLib = join(work, 'var-lib');
  stateDir = join(varLib, 'state');
  releasesDir = join(varLib, 'releases');
  mkdirSync(varLib);
  symlinkSync(join(ROOT, 'node_modules'), join(varLib, 'node_modules'));
  broker = await startMosquitto();
  const config = join(work, 'config.yaml');
  writeFileSync(
    config,
    [
      `box: { id: ${BOX}, site: Update bench }`,
      'http: { host: 127.0.0.1, port: 0 }',
      `storage: { dir: ${stateDir} }`,
      'log: { level: info }',
      'devices:',
      '  - { id: printer-1, kind: printer, name: Printer, transport: { type: simulated } }',
      'mqtt:',
      `  url: ${broker.url}`,
      '  reconnectMinMs: 100',
      '  signing:',
      `    keys: { ops: { publicKey: "${raw(fleetKey.publicKey)}", role: admin } }`,
      'update:',
      `  releaseKeys: { city-release: { publicKey: "${raw(releaseKey.publicKey)}" } }`,
      '  healthTimeoutSeconds: 10',
      '',
    ].join('\n'),
  );
  // A stand-in journalctl for logs.tail (no journald here): prints one journal entry, records its argv.
  const bin = join(work, 'bin');
  mkdirSync(bin);
  const entry = JSON.stringify({
    __REALTIME_TIMESTAMP: '1780000000000000',
    MESSAGE: JSON.stringify({
      level: 30,
      time: 1780000000000,
      component: 'fleet',
      msg: 'fleet link connected',
    }),
  });
  writeFileSync(
    join(bin, 'journalctl'),
    `#!/bin/sh\necho "$@" > "${join(work, 'journalctl-argv')}"\necho '${entry}'\n`,
  );
  chmodSync(join(bin, 'journalctl'), 0o755);

  fleet = await FleetClient.connect({ url: broker.url });
  await fleet.subscribe(fleet.topics(BOX).events, (_t, payload) => {
    const e = JSON.parse(payload.toString('utf8')) as EventMessage;
    if (!events.some((x) => x.id === e.id)) events.push(e);
  });
  box = supervise(join(packaged, 'dist/agent/update/boot.js'), ['run', '--config', config], {
    PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    HOME: process.env.HOME ?? '/tmp',
    BOXAGENT_RELEASES_DIR: releasesDir,
  });
  await waitFor(
    'the box on the fleet link',
    () => box.logs.some((l) => l.msg === 'fleet link connected'),
    20_000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}: ${JSON.stringify(box.logs.slice(-10))}`);
  });
}, 60_000);

afterAll(async () => {
  await box?.stop();
  await fleet?.close();
  await broker?.dispose();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  if (work) removeDir(work);
});

describe('agent updates', () => {
  it('refuses a release whose signature is not by a trusted release key, downloading nothing', async () => {
    const params = releaseParams(releases.v2 as ReleaseTarball, {
      releaseSignature: signRelease(otherKey.privateKey, releases.v2 as ReleaseTarball),
    });
    const reply = await call('agent.update', params);
    expect(reply).toMatchObject({
      ok: false,
      error: { status: 422, type: 'urn:boxagent:problem:bad-release-signature' },
    });
    // Unsigned (by a fleet key) it is refused before anything else.
    const unsigned = await fleet.call(BOX, 'agent.update', releaseParams(releases.v2 as ReleaseTarball));
    expect(unsigned).toMatchObject({ ok: false, error: { status: 401 } });
    expect(served).toEqual([]);
    expect(existsSync(join(releasesDir, 'current'))).toBe(false);
    expect(await version()).toBe('0.1.0');
  });

  it('updates to 0.2.0, resuming a download cut mid-way, and keeps the state', async () => {
    const r = releases.v2 as ReleaseTarball;
    const before = await call('tokens.list');
    expect(before.ok).toBe(true);
    cutOnce.set(`/${r.file.split('/').pop() ?? ''}`, 200_000);
    const reply = await call('agent.update', releaseParams(r));
    expect(reply).toMatchObject({ ok: true, result: { state: 'accepted' } });
    const updateId = (reply as { result: { updateId: string } }).result.updateId;
    // One update at a time: a second request while this one runs is refused.
    expect(await call('agent.update', releaseParams(r))).toMatchObject({
      ok: false,
      error: { status: 409, type: 'urn:boxagent:problem:update-in-progress' },
    });
    await waitForState(updateId, 'healthy');
    const states = statesOf(updateId);
    expect(states[0]).toBe('accepted');
    expect(states.slice(-5)).toEqual(['downloading', 'verifying', 'installing', 'restarting', 'healthy']);
    // The cut connection was resumed with a Range request from where it stopped.
    expect(served.length).toBe(2);
    expect(served[0]?.range).toBeUndefined();
    expect(Number(/^bytes=(\d+)-$/.exec(served[1]?.range ?? '')?.[1])).toBeGreaterThan(0);
    expect(await version()).toBe('0.2.0');
    expect(readlinkSync(join(releasesDir, 'current'))).toBe('0.2.0');
    // The same state.db: the tokens, and the events of both versions in one outbox, in seq order.
    expect(tokenIds(await call('tokens.list'))).toEqual(tokenIds(before));
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(existsSync(join(stateDir, 'pre-update', 'state.db'))).toBe(true);
  }, 90_000);

  it('fails an update whose download does not have the signed sha256, and keeps running', async () => {
    const wrong = releases.v3 as ReleaseTarball;
    // Signed facts of a 0.2.1 with the size of the file served but another hash: bytes swapped on the server.
    const facts = { version: '0.2.1', sha256: (releases.v2 as ReleaseTarball).sha256, size: wrong.size };
    const reply = await call('agent.update', {
      ...facts,
      url: `${baseUrl}/${wrong.file.split('/').pop() ?? ''}`,
      releaseKeyId: 'city-release',
      releaseSignature: signRelease(releaseKey.privateKey, facts),
    });
    const updateId = (reply as { result: { updateId: string } }).result.updateId;
    await waitForState(updateId, 'failed');
    expect(events.filter((e) => e.type === 'update.job').at(-1)?.payload).toMatchObject({
      state: 'failed',
      previous: 'verifying',
      reasonCode: 'checksum-mismatch',
    });
    expect(statesOf(updateId)).not.toContain('installing');
    expect(await version()).toBe('0.2.0');
    expect(existsSync(join(releasesDir, '0.2.1'))).toBe(false);
  });

  it('refuses a downgrade without force, downloading nothing', async () => {
    const count = served.length;
    const reply = await call('agent.update', releaseParams(releases.v1 as ReleaseTarball));
    expect(reply).toMatchObject({
      ok: false,
      error: { status: 409, type: 'urn:boxagent:problem:downgrade-refused' },
    });
    expect(served.length).toBe(count);
    expect(await version()).toBe('0.2.0');
  });

  it('rolls back by itself a release that crashes at start, reported by the old version (boxagent fleet update)', async () => {
    const exits = box.exits.length;
    const r = releases.v3 as ReleaseTarball;
    // The operator's tool: signs the release with the release key and the request with the fleet key, then
    // waits for the box's outcome; a rollback is a failure (exit 1) naming the box.
    const cli = await runCliAsync(
      [
        'fleet',
        'update',
        BOX,
        '--broker',
        broker.url,
        '--package',
        r.file,
        '--url',
        `${baseUrl}/`,
        '--release-key',
        keyFile('city-release', releaseKey.privateKey),
        '--sign',
        keyFile('ops', fleetKey.privateKey),
        '--timeout',
        '60',
      ],
      { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' },
    );
    expect(cli.status).toBe(1);
    expect(cli.stderr).toMatch(/update-box: update to 0\.3\.0 rolled_back/);
    expect(cli.stderr).toContain('update-box: restarting');
    const last = events.filter((e) => e.type === 'update.job').at(-1)?.payload;
    expect(last).toMatchObject({
      state: 'rolled_back',
      version: '0.3.0',
      from: '0.2.0',
      reasonCode: 'crashed',
    });
    const updateId = (last as { job: string }).job;
    expect(statesOf(updateId)).not.toContain('healthy');
    // The update's restart (75), then 0.3.0's crash (1); 0.2.0 runs again.
    expect(box.exits.slice(exits)).toEqual([75, 1]);
    expect(await version()).toBe('0.2.0');
    expect(readlinkSync(join(releasesDir, 'current'))).toBe('0.2.0');
  }, 90_000);

  it('rolls back a release that migrated state.db, putting the pre-update copy back', async () => {
    const before = await call('tokens.list');
    const reply = await call('agent.update', releaseParams(releases.v5 as ReleaseTarball));
    expect(reply).toMatchObject({ ok: true });
    const updateId = (reply as { result: { updateId: string } }).result.updateId;
    await waitForState(updateId, 'rolled_back');
    // 0.2.0 refuses a newer schema (exit 65, no restart): it runs, so the copy from before the update is back.
    expect(await version()).toBe('0.2.0');
    expect(tokenIds(await call('tokens.list'))).toEqual(tokenIds(before));
    // The migrated database is kept aside, not deleted.
    const aside = readdirSync(stateDir).filter((n) => n.startsWith('rolled-back-'));
    expect(aside).toHaveLength(1);
    expect(
      box.logs.some((l) => l.msg === 'the release had migrated state.db; the pre-update copy is back'),
    ).toBe(true);
  }, 90_000);

  it('signs a release for the operator: version, sha256 and size of the file, verifiable with the release key', async () => {
    const r = releases.v2 as ReleaseTarball;
    const cli = await runCliAsync(
      ['fleet', 'release', 'sign', r.file, '--release-key', keyFile('city-release', releaseKey.privateKey)],
      { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' },
    );
    expect(cli.status).toBe(0);
    const out = JSON.parse(cli.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({
      version: '0.2.0',
      sha256: r.sha256,
      size: r.size,
      releaseKeyId: 'city-release',
    });
    expect(out.releaseSignature).toBe(signRelease(releaseKey.privateKey, r)); // Ed25519 is deterministic
  });

  it('rolls back a release that does not report healthy within update.healthTimeoutSeconds', async () => {
    const reply = await call('agent.update', releaseParams(releases.v4 as ReleaseTarball));
    expect(reply).toMatchObject({ ok: true });
    const updateId = (reply as { result: { updateId: string } }).result.updateId;
    await waitForState(updateId, 'rolled_back', 60_000);
    const last = events.filter((e) => e.type === 'update.job').at(-1)?.payload;
    expect(last).toMatchObject({ state: 'rolled_back', version: '0.4.0', reasonCode: 'unhealthy' });
    expect(await version()).toBe('0.2.0');
  }, 90_000);

  it('restarts on agent.restart and tails the journal on logs.tail, both signed only', async () => {
    expect(await fleet.call(BOX, 'agent.restart', {})).toMatchObject({ ok: false, error: { status: 401 } });
    const exits = box.exits.length;
    expect(await call('agent.restart', { reason: 'test' })).toMatchObject({
      ok: true,
      result: { restarting: true },
    });
    await waitFor('the restart', () => box.exits.length > exits, 15_000);
    expect(box.exits.at(-1)).toBe(75);
    expect(await version()).toBe('0.2.0');

    const logs = await call('logs.tail', { lines: 20 });
    expect(logs).toMatchObject({
      ok: true,
      result: { lines: [{ level: 'info', component: 'fleet', msg: 'fleet link connected' }] },
    });
    expect(readFileSync(join(work, 'journalctl-argv'), 'utf8')).toContain('-u boxagent');
  }, 60_000);
  it('goes back to an older version when forced, on every box seen (fleet update --all --force)', async () => {
    const r = releases.v1 as ReleaseTarball;
    const cli = await runCliAsync(
      [
        'fleet',
        'update',
        '--all',
        '--force',
        '--json',
        '--broker',
        broker.url,
        '--package',
        r.file,
        '--url',
        `${baseUrl}/`,
        '--release-key',
        keyFile('city-release', releaseKey.privateKey),
        '--sign',
        keyFile('ops', fleetKey.privateKey),
      ],
      { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' },
    );
    expect(cli.stderr).toBe('');
    expect(cli.status).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({
      version: '0.1.0',
      results: [{ box: BOX, state: 'healthy' }],
      skipped: [],
    });
    expect(await version()).toBe('0.1.0');
    expect(readlinkSync(join(releasesDir, 'current'))).toBe('0.1.0');
    // Healthy, it keeps itself and the release before it; the rolled-back ones are removed.
    expect(
      readdirSync(releasesDir)
        .filter((n) => !n.startsWith('.'))
        .sort(),
    ).toEqual(['0.1.0', '0.2.0', 'current']);
  }, 90_000);
});
