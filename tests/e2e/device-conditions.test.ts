// Device state a page can trust, against the built daemon: a printer's paper out (and cover open) shows as a
// condition on GET /v1/devices and in a device.state event, and pauses GET /v1/printers/:id/queue even with
// nothing queued; a printer that goes offline (the simulator's fault, or a serial line whose far end dies: a
// real socat pty pair) is reported within 3 s with the default probe interval; and the retries that follow
// publish no event per attempt.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  postJson,
  removeDir,
  runCli,
  startDaemon,
  tempDir,
  testEnv,
  writeConfig,
  type Daemon,
} from '../helpers/daemon.js';
import { openPtyPair, type PtyPair } from '../helpers/pty-pair.js';
import { openSse, type SseStream } from '../helpers/sse.js';
import { waitFor } from '../helpers/wait-for.js';

/** The promise of the issue: an offline device is on the page within this. */
const OFFLINE_REPORTED_MS = 3000;

interface Condition {
  code: string;
  reason: string;
  since: string;
}
interface DeviceView {
  id: string;
  state: string;
  reason: string | null;
  reasonCode: string | null;
  detail: string | null;
  conditions: Condition[];
}
interface StateEvent extends Omit<DeviceView, 'id'> {
  device: string;
  previous: string;
}
interface QueueView {
  device: string;
  paused: boolean;
  reason: string | null;
  reasonCode: string | null;
  length: number;
  jobs?: { id: string; state: string }[];
}

let dir: string;
let pair: PtyPair;
let config: string;
let daemon: Daemon;
let stream: SseStream;
let readToken: string;

beforeAll(async () => {
  dir = tempDir('boxagent-conditions-');
  pair = await openPtyPair(dir, 'printer');
  config = writeConfig(
    dir,
    [
      'box: { id: conditions-box }',
      // The default probe interval: the 3 s promise holds as shipped. Short backoff, to see several retries.
      'supervision: { backoffInitialMs: 200, backoffMaxMs: 400 }',
      'devices:',
      '  - id: printer-1',
      '    kind: printer',
      '    transport: { type: simulated }',
      '  - id: printer-2',
      '    kind: printer',
      `    transport: { type: serial, path: "${pair.device}", baudRate: 115200 }`,
      '  - id: seal-1',
      '    kind: seal',
      '    transport: { type: simulated }',
      '',
    ].join('\n'),
  );
  daemon = await startDaemon({
    config,
    storageDir: tempDir(),
    env: { BOXAGENT_FACE_ENABLED: 'false', BOXAGENT_BOX_LOCALE: 'en' },
  });
  stream = await openSse(`${daemon.url}/v1/events`, { authorization: `Bearer ${daemon.adminToken}` });
  const created = runCli(
    ['token', 'create', '--name', 'page', '--scopes', 'read'],
    testEnv(daemon.storageDir, { BOXAGENT_CONFIG: config }),
  );
  expect(created.status, created.stderr).toBe(0);
  readToken = created.stdout.trim();
  for (const id of ['printer-1', 'printer-2']) {
    await waitFor(`${id} ready`, async () => (await device(id)).state === 'ready', 15_000);
  }
});

afterAll(async () => {
  stream?.close();
  await daemon?.stop('SIGKILL');
  await pair?.close();
  if (daemon) removeDir(daemon.storageDir);
  if (dir) removeDir(dir);
});

async function device(id: string): Promise<DeviceView> {
  return (await (await daemon.fetch(`/v1/devices/${id}`, { token: readToken })).json()) as DeviceView;
}

async function queue(id: string, query = ''): Promise<QueueView> {
  const res = await daemon.fetch(`/v1/printers/${id}/queue${query}`, { token: readToken });
  expect(res.status).toBe(200);
  return (await res.json()) as QueueView;
}

const stateEvents = (id: string): StateEvent[] =>
  stream.events
    .filter((e) => e.event === 'device.state')
    .map((e) => JSON.parse(e.data) as StateEvent)
    .filter((e) => e.device === id);

async function simulate(id: string, fault: string): Promise<void> {
  const res = await daemon.fetch(`/v1/devices/${id}/simulator`, postJson({ fault }));
  expect(res.status, await res.clone().text()).toBe(200);
}

describe('printer conditions', () => {
  it('shows paper out on the device and in an event, and pauses the queue with nothing queued', async () => {
    expect(await queue('printer-1')).toEqual({
      device: 'printer-1',
      paused: false,
      reason: null,
      reasonCode: null,
      detail: null,
      length: 0,
    });
    const mark = stateEvents('printer-1').length;
    await simulate('printer-1', 'paper-out');
    await waitFor('the paper-out condition', async () => (await device('printer-1')).conditions.length > 0);
    const d = await device('printer-1');
    // Still answering: the state stays ready, the condition says what a clerk must do.
    expect(d).toMatchObject({
      state: 'ready',
      reasonCode: 'paper-out',
      reason: 'The printer is out of paper',
      conditions: [{ code: 'paper-out', reason: 'The printer is out of paper' }],
    });
    expect(Number.isNaN(Date.parse(d.conditions[0]!.since))).toBe(false);
    await waitFor('its event', () => stateEvents('printer-1').length > mark);
    expect(stateEvents('printer-1')[mark]).toMatchObject({
      state: 'ready',
      previous: 'ready',
      reasonCode: 'paper-out',
      conditions: [{ code: 'paper-out' }],
    });
    expect(await queue('printer-1')).toMatchObject({
      paused: true,
      reasonCode: 'paper-out',
      reason: 'The printer is out of paper',
      length: 0,
    });

    // A job waits in the paused queue, and is listed on request.
    const submitted = await daemon.fetch(
      '/v1/print-jobs',
      postJson({
        printer: 'printer-1',
        document: { page: { size: 'A4' }, items: [{ type: 'text', xMm: 10, yMm: 10, text: '缺纸测试' }] },
      }),
    );
    expect(submitted.status).toBe(202);
    const job = (await submitted.json()) as { id: string };
    const waiting = await queue('printer-1', '?jobs=true');
    expect(waiting).toMatchObject({ paused: true, length: 1, jobs: [{ id: job.id }] });

    // Paper loaded: the condition goes (with an event), the queue runs and empties.
    await simulate('printer-1', 'none');
    await waitFor('the condition cleared', async () => (await device('printer-1')).conditions.length === 0);
    expect(stateEvents('printer-1').at(-1)).toMatchObject({ reasonCode: null, conditions: [] });
    await waitFor('the queue empty', async () => (await queue('printer-1')).length === 0, 15_000);
    expect(await queue('printer-1')).toMatchObject({ paused: false, reasonCode: null });
    const done = (await (await daemon.fetch(`/v1/print-jobs/${job.id}`)).json()) as { state: string };
    expect(done.state).toBe('done');
  });

  it('shows a cover left open the same way', async () => {
    await simulate('printer-1', 'cover-open');
    await waitFor('cover-open', async () => (await device('printer-1')).reasonCode === 'cover-open');
    expect((await device('printer-1')).conditions.map((c) => c.code)).toEqual(['cover-open']);
    expect(await queue('printer-1')).toMatchObject({ paused: true, reasonCode: 'cover-open' });
    await simulate('printer-1', 'none');
    await waitFor('cleared', async () => (await device('printer-1')).conditions.length === 0);
  });

  it('answers 404 for a queue of a device that is no dot-matrix printer, or of none', async () => {
    for (const id of ['seal-1', 'nope']) {
      const res = await daemon.fetch(`/v1/printers/${id}/queue`, { token: readToken });
      expect(res.status).toBe(404);
      expect(((await res.json()) as { type: string }).type).toBe('urn:boxagent:problem:not-found');
    }
  });
});

describe('a printer that goes offline', () => {
  it('is reported within 3 s (simulator), and its retries publish no event per attempt', async () => {
    const mark = stateEvents('printer-1').length;
    const logMark = daemon.logs.length;
    await simulate('printer-1', 'offline');
    await waitFor(
      'printer-1 reported down',
      () =>
        stateEvents('printer-1')
          .slice(mark)
          .some((e) => e.state === 'error'),
      OFFLINE_REPORTED_MS,
    );
    const down = await device('printer-1');
    expect(down).toMatchObject({ reasonCode: 'not-answering', reason: 'The device is not responding' });
    expect(await queue('printer-1')).toMatchObject({ paused: true, reasonCode: 'not-answering' });

    // Backoff: count the reopen attempts (debug log) and the events meanwhile.
    await waitFor('backoff', () =>
      stateEvents('printer-1')
        .slice(mark)
        .some((e) => e.state === 'backoff'),
    );
    const eventsInBackoff = stateEvents('printer-1').length;
    const attempts = (): number =>
      daemon.logs.slice(logMark).filter((l) => l.msg === 'device reopen attempt' && l.device === 'printer-1')
        .length;
    const before = attempts();
    await waitFor('three more attempts', () => attempts() >= before + 3, 10_000);
    expect(stateEvents('printer-1').length).toBe(eventsInBackoff);

    await simulate('printer-1', 'none');
    await waitFor('ready again', async () => (await device('printer-1')).state === 'ready');
    expect(stateEvents('printer-1').at(-1)).toMatchObject({ state: 'ready', previous: 'backoff' });
  });

  it('is reported within 3 s when the far end of its serial line dies (socat pty), quietly retried', async () => {
    const mark = stateEvents('printer-2').length;
    const logMark = daemon.logs.length;
    await pair.close();
    await waitFor(
      'printer-2 reported down',
      () =>
        stateEvents('printer-2')
          .slice(mark)
          .some((e) => e.state !== 'ready' && e.state !== 'busy'),
      OFFLINE_REPORTED_MS,
    );
    const down = await device('printer-2');
    expect(['absent', 'error', 'backoff']).toContain(down.state);
    expect(down.reasonCode).not.toBeNull();
    expect(down.reason).not.toBeNull();

    // The line lost (error, backoff), then its device node gone: absent, while it is looked for again.
    await waitFor('absent', async () => (await device('printer-2')).state === 'absent');
    expect(await device('printer-2')).toMatchObject({
      reasonCode: 'unplugged',
      reason: 'The device is not connected',
    });
    expect(stateEvents('printer-2').slice(mark)[0]).toMatchObject({
      state: 'error',
      reasonCode: 'connection-lost',
    });
    const eventsWhileRetrying = stateEvents('printer-2').length;
    const attempts = (): number =>
      daemon.logs.slice(logMark).filter((l) => l.msg === 'device reopen attempt' && l.device === 'printer-2')
        .length;
    const before = attempts();
    await waitFor('three more attempts', () => attempts() >= before + 3, 10_000);
    expect(stateEvents('printer-2').length).toBe(eventsWhileRetrying);
  });

  it('refuses simulator faults for a real printer (409)', async () => {
    const res = await daemon.fetch('/v1/devices/printer-2/simulator', postJson({ fault: 'paper-out' }));
    expect(res.status).toBe(409);
    expect(((await res.json()) as { type: string }).type).toBe('urn:boxagent:problem:not-simulated');
  });
});
