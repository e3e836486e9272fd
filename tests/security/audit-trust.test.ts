// Issue 14, item 10: an audit log that proves something. Someone with write access to state.db (not to
// audit.key) cuts the last entries, or edits one and recomputes the chain; the fleet's anchor (telemetry
// `auditHead`) and the keyed MAC show it. And an entry the CLI writes beside the running daemon reaches the
// fleet like the daemon's own. Against the daemon spawned as a process, the CLI and Debian's mosquitto.
import { rechainWithoutKey } from '../helpers/audit-forgery.js';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventMessage, TelemetryMessage } from '../../agent/fleet/contract.js';
import {
  DEFAULT_CONFIG,
  removeDir,
  runCli,
  runCliAsync,
  startDaemon,
  tempDir,
  testEnv,
  type Daemon,
} from '../helpers/daemon.js';
import { mosquittoSub, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/wait-for.js';

const BOX = 'audit-box';
const ROOT = `boxagent/v1/${BOX}`;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups.length = 0;
});

function scratch(): string {
  const dir = tempDir();
  cleanups.push(() => removeDir(dir));
  return dir;
}

async function broker(): Promise<Mosquitto> {
  const b = await startMosquitto();
  cleanups.push(() => b.dispose());
  return b;
}

function fleetEnv(b: Mosquitto): Record<string, string> {
  return {
    BOXAGENT_BOX_ID: BOX,
    BOXAGENT_MQTT_URL: b.url,
    BOXAGENT_MQTT_TELEMETRY_INTERVAL_SECONDS: '1',
    BOXAGENT_LOG_LEVEL: 'info',
  };
}

async function daemonOn(b: Mosquitto, storageDir: string): Promise<Daemon> {
  const daemon = await startDaemon({ storageDir, env: fleetEnv(b) });
  cleanups.push(() => daemon.stop('SIGKILL').then(() => undefined));
  return daemon;
}

/** The fleet's side: every message on `topic`, parsed. */
function fleetListens<T>(b: Mosquitto, topic: string): { messages: () => T[] } {
  const sub = mosquittoSub(b.port, [topic], '%p');
  cleanups.push(() => sub.stop());
  return { messages: () => sub.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as T) };
}

function cliEnv(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return testEnv(dir, { BOXAGENT_CONFIG: DEFAULT_CONFIG, ...extra });
}

function createTokens(dir: string, names: string[]): void {
  for (const name of names) {
    const r = runCli(['token', 'create', '--name', name, '--scopes', 'read'], cliEnv(dir));
    expect(r.status, r.stderr).toBe(0);
  }
}

describe('a truncated audit log', () => {
  it('is reported against the head the fleet received before the cut, though the rest of the chain is intact', async () => {
    const b = await broker();
    const dir = scratch();
    createTokens(dir, ['clerk-1', 'clerk-2', 'clerk-3', 'clerk-4']);
    const telemetry = fleetListens<TelemetryMessage>(b, `${ROOT}/telemetry`);
    const daemon = await daemonOn(b, dir);
    // The daemon's own start audits too (the bootstrap admin token): the anchor is what the fleet last saw.
    await waitFor('telemetry with the audit head', () =>
      telemetry.messages().some((t) => (t.auditHead?.seq ?? 0) >= 4),
    );
    const anchor = telemetry.messages().at(-1)!.auditHead!;
    await daemon.stop();

    // The attacker deletes the last two entries: every remaining hash still chains.
    const db = new Database(join(dir, 'state.db'));
    db.prepare('DELETE FROM audit WHERE seq > ?').run(anchor.seq - 2);
    db.close();
    expect(runCli(['audit', 'verify'], cliEnv(dir)).status).toBe(0);

    const r = runCli(['audit', 'verify', '--head', `${anchor.seq}:${anchor.hash}`], cliEnv(dir));
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toEqual([
      `boxagent: audit chain broken at entry ${anchor.seq}: missing tail (the log ends at entry ${anchor.seq - 2}: 2 or more entries were removed)`,
    ]);
  });
});

describe('a rewritten audit entry', () => {
  it('is reported when its detail was edited and the chain recomputed without the key', () => {
    const dir = scratch();
    createTokens(dir, ['clerk-1', 'clerk-2', 'clerk-3']);
    const db = new Database(join(dir, 'state.db'));
    try {
      // Entry 2 now says another token was made; the attacker re-hashes from there on as SHA-256 would.
      db.prepare('UPDATE audit SET detail = ? WHERE seq = 2').run(JSON.stringify({ name: 'mallory' }));
      rechainWithoutKey(db, 2);
    } finally {
      db.close();
    }
    const r = runCli(['audit', 'verify'], cliEnv(dir));
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      'boxagent: audit chain broken at entry 2: rewritten (its MAC does not match: changed without the audit key)',
    ]);
  });
});

describe('an entry written by the CLI', () => {
  it('is in the outbox in its transaction and reaches the fleet through the running daemon', async () => {
    const b = await broker();
    const dir = scratch();
    const events = fleetListens<EventMessage>(b, `${ROOT}/events`);
    await daemonOn(b, dir);
    const r = await runCliAsync(
      ['token', 'create', '--name', 'night-clerk', '--scopes', 'read'],
      cliEnv(dir, { BOXAGENT_BOX_ID: BOX, BOXAGENT_MQTT_URL: b.url }),
    );
    expect(r.status, r.stderr).toBe(0);

    const db = new Database(join(dir, 'state.db'), { readonly: true });
    const audited = db
      .prepare("SELECT seq, hash FROM audit WHERE action = 'token.create' ORDER BY seq DESC LIMIT 1")
      .get() as { seq: number; hash: string };
    const stored = db
      .prepare("SELECT payload FROM outbox WHERE type = 'audit.entry' AND json_extract(payload, '$.seq') = ?")
      .get(audited.seq) as { payload: string } | undefined;
    db.close();
    expect(JSON.parse(stored?.payload ?? 'null')).toMatchObject({
      seq: audited.seq,
      hash: audited.hash,
      actor: 'cli',
      action: 'token.create',
    });

    const sent = (e: EventMessage) =>
      e.type === 'audit.entry' && (e.payload as { seq: number }).seq === audited.seq;
    await waitFor('the CLI-made audit entry at the fleet', () => events.messages().some(sent));
    expect(events.messages().find(sent)?.payload).toMatchObject({ actor: 'cli', action: 'token.create' });
  });
});
