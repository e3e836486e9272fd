// Upgrading a box: a state.db written by the code before the one job table (tests/fixtures/state-v3, made by
// that code) is opened by today's Store and services. Every job is still there with its id, state and
// input; the queued ones are printed once; the ones in doubt are not sent again.
import { cpSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { CertificateService } from '../../../agent/certificates/certificate-service.js';
import { DeviceManager } from '../../../agent/devices/device-manager.js';
import { createDriver } from '../../../agent/kinds/index.js';
import { EventLog } from '../../../agent/events/event-log.js';
import { FaceService } from '../../../agent/face/face-service.js';
import { PhotoService } from '../../../agent/photos/photo-service.js';
import { PrintService } from '../../../agent/printing/print-service.js';
import { SealService } from '../../../agent/sealing/seal-service.js';
import { SelfTestService } from '../../../agent/selftest/self-test-service.js';
import { DB_FILE, Store } from '../../../agent/store/store.js';
import { MIGRATIONS } from '../../../agent/store/migrations.js';
import { parseConfig } from '../../../config/load.js';
import { DEFAULT_SETUP } from '../../../drivers/printer/forms.js';
import { PrinterSimulatorEndpoint } from '../../../drivers/printer/simulator-endpoint.js';
import { ROOT, removeDir, tempDir } from '../../helpers/daemon.js';
import { openPtyPair } from '../../helpers/pty-pair.js';
import { waitFor } from '../../helpers/wait-for.js';

const FIXTURE = join(ROOT, 'tests/fixtures/state-v3');
const log = pino({ level: 'silent' });
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface OldJob {
  id: string;
  kind: string;
  device: string;
  state: string;
  input: Record<string, unknown>;
}

/** The fixture's state dir, loaded from its SQL dump, and what the old tables held. */
function oldBox(): { dir: string; jobs: OldJob[] } {
  const dir = tempDir();
  cleanups.push(() => removeDir(dir));
  cpSync(join(FIXTURE, 'spool'), join(dir, 'spool'), { recursive: true });
  const db = new Database(join(dir, DB_FILE));
  db.exec(readFileSync(join(FIXTURE, 'state.sql'), 'utf8'));
  expect(db.pragma('user_version', { simple: true })).toBe(3);
  const rows = db.prepare('SELECT id, kind, device_id, state, input FROM jobs ORDER BY rowid').all() as {
    id: string;
    kind: string;
    device_id: string;
    state: string;
    input: string;
  }[];
  const certs = db
    .prepare('SELECT id, printer, template, state, input FROM certificates ORDER BY rowid')
    .all() as { id: string; printer: string; template: string; state: string; input: string }[];
  db.close();
  return {
    dir,
    jobs: [
      ...rows.map((r) => ({
        id: r.id,
        kind: r.kind,
        device: r.device_id,
        state: r.state,
        input: JSON.parse(r.input) as Record<string, unknown>,
      })),
      ...certs.map((c) => ({
        id: c.id,
        kind: 'certificate',
        device: c.printer,
        state: c.state,
        input: { ...(JSON.parse(c.input) as Record<string, unknown>), template: c.template },
      })),
    ],
  };
}

describe('migration to the one job table', () => {
  it('keeps every job of a schema-3 box with its id, state and input', () => {
    const { dir, jobs } = oldBox();
    expect(jobs.map((j) => `${j.kind}:${j.state}`)).toEqual([
      'print:done',
      'print:in_doubt',
      'print:queued',
      'print:queued',
      'device.self-test:done',
      'seal:done',
      'seal:in_doubt',
      'seal:pending',
      'seal:pending',
      'certificate:printed',
      'certificate:in_doubt',
      'certificate:queued',
    ]);
    const store = Store.open(dir);
    cleanups.push(() => store.close());
    expect(store.schemaVersion()).toBe(MIGRATIONS.length);
    for (const old of jobs) {
      expect(store.jobs.get(old.id), old.id).toMatchObject({
        kind: old.kind === 'device.self-test' ? 'selftest' : old.kind,
        device: old.device,
        state: old.state,
        input: old.input,
      });
    }
    // The certificate's steps came over: the printed one keeps its printer job and seal job.
    const printed = jobs.find((j) => j.kind === 'certificate' && j.state === 'printed')!;
    expect(store.jobs.get(printed.id)?.steps).toMatchObject({
      documentSha256: 'ab'.repeat(32),
      remoteJobId: 7,
      sealJobId: expect.any(String) as string,
      sealToken: expect.stringMatching(/^sct_/) as string,
    });
    expect(store.audit.verify().ok).toBe(true);
  });

  it('prints the queued jobs once, in order, and sends nothing that was in doubt', async () => {
    const { dir, jobs } = oldBox();
    const pty = await openPtyPair(dir);
    const sim = await PrinterSimulatorEndpoint.serial(pty.peer, { setup: DEFAULT_SETUP });
    const out = join(dir, 'printed');
    const config = parseConfig(
      `box: { id: t }
supervision: { probeIntervalMs: 50, failuresBeforeError: 1, backoffInitialMs: 50, backoffMaxMs: 100 }
face: { enabled: false }
devices:
  - { id: lq, kind: printer, transport: { type: serial, path: "${pty.device}", baudRate: 115200 } }
  - { id: seal-1, kind: seal, transport: { type: simulated } }
  - { id: photo-1, kind: photo-printer, transport: { type: simulated, outputDir: "${out}" }, photoPrinter: { jobPollMs: 50 } }
`,
      'test.yaml',
      { BOXAGENT_STORAGE_DIR: dir },
    );
    const store = Store.open(dir);
    const events = new EventLog(store, 10_000);
    const devices = new DeviceManager(config.devices, config.supervision, createDriver, log, () => undefined);
    const printing = new PrintService({ store, events, devices, log, storageDir: dir, pollMs: 20 });
    const seals = new SealService(store, events, devices, log);
    const photos = new PhotoService(new FaceService(config.face, store, dir, log));
    const certificates = new CertificateService({
      store,
      events,
      devices,
      seals,
      photos,
      log,
      storageDir: dir,
      pollMs: 20,
    });
    const selfTests = new SelfTestService(store, events, devices, log);
    cleanups.push(
      () => store.close(),
      () => pty.close(),
      () => sim.close(),
      () => devices.stop(),
      () => printing.stop(100),
      () => certificates.stop(100),
    );
    seals.start();
    selfTests.start();
    devices.start();
    printing.start();
    certificates.start();

    const of = (kind: string, state: string) =>
      jobs.filter((j) => j.kind === kind && j.state === state).map((j) => j.id);
    const [queued1, queued2] = of('print', 'queued');
    await waitFor('both queued print jobs done', () =>
      [queued1, queued2].every((id) => printing.get(id!).state === 'done'),
    );
    const [queuedCard] = of('certificate', 'queued');
    await waitFor(
      'the queued certificate printed',
      () => certificates.get(queuedCard!, false).state === 'printed',
    );

    // Printed once each, in their old order; the in-doubt job's text is on no page.
    expect(sim.printer.pages.map((p) => p.cells.map((c) => c.ch).join(''))).toEqual([
      expect.stringContaining('排队一') as string,
      expect.stringContaining('排队二') as string,
    ]);
    expect(printing.get(of('print', 'in_doubt')[0]!).state).toBe('in_doubt');
    expect(printing.get(of('print', 'done')[0]!).state).toBe('done');
    // One card went to the photo printer: the queued one. The in-doubt one waits for an operator.
    expect(readdirSync(out).filter((f) => f.startsWith('job-'))).toHaveLength(1);
    expect(certificates.get(of('certificate', 'in_doubt')[0]!, false).state).toBe('in_doubt');
    const card = certificates.get(queuedCard!, false);
    expect(card.seal?.jobId).toEqual(expect.any(String));
    const printed = certificates.get(of('certificate', 'printed')[0]!, false);
    expect(printed.printerJobId).toBe(7);
    // Seal jobs: nothing fired; the restart ended the pending windows (the printed card's seal job too).
    expect(seals.get(of('seal', 'done')[0]!).state).toBe('done');
    expect(seals.get(of('seal', 'in_doubt')[0]!).state).toBe('in_doubt');
    for (const id of of('seal', 'pending')) expect(seals.get(id).state).toBe('expired');
    expect(store.audit.list(0, 1000).filter((e) => e.action === 'seal.firing')).toEqual([]);
    expect(printed.seal?.jobId).toBe(of('seal', 'pending')[1]);
    expect(store.jobs.get(jobs.find((j) => j.kind === 'device.self-test')!.id)?.kind).toBe('selftest');
  });
});
