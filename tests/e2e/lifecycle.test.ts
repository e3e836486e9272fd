// Start-up and shutdown as systemd sees them: bad config exits 78, READY/STOPPING reach NOTIFY_SOCKET.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, removeDir, startDaemon, tempDir, testEnv, writeConfig } from '../helpers/daemon.js';
import { startListener, stopListeners } from '../helpers/notify-listener.js';
import { waitFor } from '../helpers/wait-for.js';
import { spawnSync } from 'node:child_process';

const dirs: string[] = [];
function scratch(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}

afterEach(async () => {
  await stopListeners();
  dirs.splice(0).forEach(removeDir);
});

function runDaemonToExit(config: string, env: Record<string, string>) {
  return spawnSync(process.execPath, [CLI, 'run', '--config', config], {
    env,
    encoding: 'utf8',
    timeout: 20_000,
  });
}

describe('a bad config', () => {
  it('stops start-up with exit 78 and one line per problem, naming key path and file line', () => {
    const dir = scratch();
    const config = writeConfig(
      dir,
      [
        'box:',
        '  id: box-7',
        'http:',
        '  bodyLimitBytes: 5',
        '  colour: blue',
        'devices:',
        '  - id: p1',
        '    kind: toaster',
        '    transport: { type: simulated }',
        '',
      ].join('\n'),
    );
    const r = runDaemonToExit(config, testEnv(dir));
    expect(r.status).toBe(78);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toContain(`config error: ${config}:4: http.bodyLimitBytes: must be >= 1024`);
    expect(lines).toContain(`config error: ${config}:5: http.colour: unknown key`);
    expect(lines).toContain(
      `config error: ${config}:8: devices.0.kind: must be one of: printer, camera, seal, photo-printer, idcard, rating-pad`,
    );
    expect(lines).toHaveLength(3);
    // Nothing was created for a box that never started.
    expect(existsSync(join(dir, 'state.db'))).toBe(false);
  });

  it('names an env override that is wrong', () => {
    const dir = scratch();
    const r = runDaemonToExit(
      join(process.cwd(), 'config/default.yaml'),
      testEnv(dir, { BOXAGENT_HTTP_PORT: 'eighty' }),
    );
    expect(r.status).toBe(78);
    expect(r.stderr).toContain(
      'config error: env BOXAGENT_HTTP_PORT: http.port: must be an integer, got "eighty"',
    );
  });

  it('says so when the file is missing', () => {
    const dir = scratch();
    const r = runDaemonToExit(join(dir, 'nope.yaml'), testEnv(dir));
    expect(r.status).toBe(78);
    expect(r.stderr.trim()).toBe(`config error: ${join(dir, 'nope.yaml')}: file not found`);
  });
});

describe('systemd notification', () => {
  it('sends READY=1 once the API listens, WATCHDOG=1 while running, STOPPING=1 on SIGTERM', async () => {
    const dir = scratch();
    const socket = join(dir, 'notify.sock');
    const listener = await startListener(`UNIX-RECV:${socket}`, () => existsSync(socket));
    const daemon = await startDaemon({
      storageDir: join(dir, 'state'),
      env: { NOTIFY_SOCKET: socket, WATCHDOG_USEC: '400000' },
    });
    await waitFor('READY=1', () => listener.datagrams.some((d) => d.startsWith('READY=1')));
    // READY came after the API answered: the health check must already pass.
    expect((await daemon.fetch('/v1/health')).status).toBe(200);
    await waitFor(
      'two watchdog pings',
      () => listener.datagrams.filter((d) => d === 'WATCHDOG=1').length >= 2,
    );
    expect(await daemon.stop('SIGTERM')).toBe(0);
    await waitFor('STOPPING=1', () => listener.datagrams.includes('STOPPING=1'));
    const ready = listener.datagrams.find((d) => d.startsWith('READY=1'));
    expect(ready).toMatch(/STATUS=listening on http:\/\/127\.0\.0\.1:\d+/);
  });
});
