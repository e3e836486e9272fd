// The certificate queue on the simulated photo printer (the one `npm start` runs): the job logic does not
// care which printer it is. Printed cards land in the simulator's output dir; an empty tray keeps the job
// queued (nothing sent) until paper is back; a cancel only takes a queued job.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { CertificateService } from '../../../agent/certificates/certificate-service.js';
import { DeviceManager } from '../../../agent/devices/device-manager.js';
import { createDriver } from '../../../agent/kinds/index.js';
import { EventLog } from '../../../agent/events/event-log.js';
import { FaceService } from '../../../agent/face/face-service.js';
import { PhotoService } from '../../../agent/photos/photo-service.js';
import { SealService } from '../../../agent/sealing/seal-service.js';
import { Store } from '../../../agent/store/store.js';
import { parseConfig } from '../../../config/load.js';
import { removeDir, tempDir } from '../../helpers/daemon.js';
import { waitFor } from '../../helpers/wait-for.js';

const log = pino({ level: 'silent' });
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const FIELDS = {
  name: '李四',
  sex: '男',
  birthDate: '1950-01-01',
  idNumber: '43010219500101001X',
  cardNumber: 'SIM-1',
  issuer: '测试民政局',
  issueDate: '2026-11-26',
};

async function rig() {
  const dir = tempDir();
  const out = join(dir, 'printed');
  const config = parseConfig(
    `box: { id: t }
supervision: { probeIntervalMs: 50, failuresBeforeError: 1, backoffInitialMs: 50, backoffMaxMs: 100 }
face: { enabled: false }
devices:
  - { id: photo-1, kind: photo-printer, transport: { type: simulated, outputDir: "${out}" }, photoPrinter: { jobPollMs: 50 } }
  - { id: seal-1, kind: seal, transport: { type: simulated } }
`,
    'test.yaml',
    { BOXAGENT_STORAGE_DIR: dir },
  );
  const store = Store.open(dir);
  const events = new EventLog(store, 10_000);
  const seen: Record<string, unknown>[] = [];
  events.subscribe((e) => {
    if (e.type === 'certificate.job') seen.push(e.payload as Record<string, unknown>);
  });
  const devices = new DeviceManager(config.devices, config.supervision, createDriver, log, () => undefined);
  const seals = new SealService(store, events, devices, log);
  const photos = new PhotoService(new FaceService(config.face, store, dir, log));
  const service = new CertificateService({
    store,
    events,
    devices,
    seals,
    photos,
    log,
    storageDir: dir,
    pollMs: 20,
  });
  devices.start();
  seals.start();
  service.start();
  cleanups.push(() => removeDir(dir));
  cleanups.push(() => store.close());
  cleanups.push(() => devices.stop());
  cleanups.push(() => service.stop());
  await waitFor('photo-1 ready', () => devices.get('photo-1')?.currentState() === 'ready');
  const photo = (
    await sharp({ create: { width: 295, height: 413, channels: 3, background: '#cde' } })
      .jpeg()
      .toBuffer()
  ).toString('base64');
  const submit = (seal = true) =>
    service.submit(
      {
        template: 'senior-citizen-card',
        fields: FIELDS,
        photo: { image: photo, crop: false, requireLightBackground: true },
        printer: 'photo-1',
        ...(seal ? { seal: { device: 'seal-1', operator: 'clerk' } } : {}),
      },
      'tester',
    );
  return { service, devices, store, out, seen, submit };
}

describe('certificates on the simulated photo printer', () => {
  it('prints to the output dir and creates the seal job, with events for each step', async () => {
    const { service, out, seen, submit } = await rig();
    const job = await submit();
    await waitFor('printed with a seal job', () => service.get(job.id, true).seal?.jobId != null);
    const done = service.get(job.id, true);
    expect(done.state).toBe('printed');
    expect(done.seal?.confirmationToken).toMatch(/^sct_/);
    expect(service.get(job.id, false).seal?.confirmationToken).toBeUndefined();
    const printed = readFileSync(join(out, 'job-1.jpg'));
    expect((await sharp(printed).metadata()).width).toBe(1011);
    expect(seen.map((e) => e.state)).toEqual(['queued', 'composing', 'printing', 'printed', 'printed']);
    expect(seen.at(-1)).toMatchObject({ sealJob: done.seal?.jobId });
  });

  it('waits while the tray is empty, sends nothing, then prints once paper is back', async () => {
    const { service, devices, out, submit } = await rig();
    devices.simulateFault('photo-1', 'paper-out');
    const job = await submit(false);
    const queued = await submit(false);
    expect(service.cancel(queued.id, 'tester').state).toBe('canceled');
    expect(() => service.cancel(queued.id, 'tester')).toThrow(/only a queued one/);
    // Still reachable: the empty tray is a condition of the ready printer.
    await waitFor(
      'the paper-out condition',
      () => devices.get('photo-1')?.status().reasonCode === 'paper-out',
    );
    expect(devices.get('photo-1')?.currentState()).toBe('ready');
    expect(service.get(job.id, false).state).toBe('queued');
    expect(existsSync(join(out, 'jobs.jsonl'))).toBe(false);
    devices.simulateFault('photo-1', 'none');
    await waitFor('printed', () => service.get(job.id, false).state === 'printed');
    expect(readFileSync(join(out, 'jobs.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);
  });
});
