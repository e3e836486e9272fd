// The built daemon with an ID card reader on a real socat pty (the reader simulator on the far end): a card
// laid on the reader comes out of GET /v1/idcard/:device/card in full (the ID number masked without scope
// idcard), and as a live-only `idcard.read` event (to tokens with scope idcard) and a log line with the ID
// number masked. A second daemon shows the simulated transport and `revealIdNumber`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdCardReaderSimulator, SAMPLE_CARDS } from '../../drivers/idcard/simulator.js';
import { openSerial } from '../../drivers/transport/serial.js';
import {
  removeDir,
  runCliAsync,
  startDaemon,
  tempDir,
  testEnv,
  writeConfig,
  type Daemon,
} from '../helpers/daemon.js';
import { openPtyPair, type PtyPair } from '../helpers/pty-pair.js';
import { openSse, type SseEvent, type SseStream } from '../helpers/sse.js';
import { waitFor } from '../helpers/wait-for.js';

const PROBLEM = 'application/problem+json';
const FULL_ID = SAMPLE_CARDS.zhang.text.idNumber; // 430102198503151236
const MASKED_ID = '430***********1236';

interface IdCardEvent {
  type: string;
  device: string;
  name: string;
  idNumber: string;
  idNumberMasked: boolean;
  idNumberCheck: { valid: boolean; reason: string | null };
  photo: { format: string; bytes: number };
}

const cardEvents = (s: SseStream): IdCardEvent[] =>
  s.events.filter((e: SseEvent) => e.event === 'idcard.read').map((e) => JSON.parse(e.data) as IdCardEvent);

describe('an ID card reader on a serial port', () => {
  let dir: string;
  let pair: PtyPair;
  let sim: IdCardReaderSimulator;
  let daemon: Daemon;
  let events: SseStream;
  /** Streams of a `read` token and of a counter app's `read,idcard` token. */
  let readOnly: SseStream;
  let counter: SseStream;
  let monitorToken: string;
  let counterToken: string;

  beforeAll(async () => {
    dir = tempDir();
    pair = await openPtyPair(dir, 'idcard');
    sim = new IdCardReaderSimulator(
      await openSerial({
        path: pair.peer,
        baudRate: 115200,
        dataBits: 8,
        parity: 'none',
        stopBits: 1,
        rtscts: false,
      }),
    );
    sim.start();
    const config = writeConfig(
      dir,
      [
        'box:',
        '  id: idcard-box',
        'devices:',
        '  - id: reader-1',
        '    kind: idcard',
        '    transport: { type: serial, path: "' + pair.device + '", baudRate: 115200 }',
        '    idcard: { pollIntervalMs: 200, commandTimeoutMs: 3000, readTimeoutMs: 5000 }',
        '  - id: printer-1',
        '    kind: printer',
        '    transport: { type: simulated }',
        '',
      ].join('\n'),
    );
    daemon = await startDaemon({ config, storageDir: tempDir() });
    events = await openSse(`${daemon.url}/v1/events`, { authorization: `Bearer ${daemon.adminToken}` });
    // Not runCli: a blocked event loop would silence the reader simulator in this process meanwhile.
    const token = async (name: string, scopes: string): Promise<string> => {
      const env = testEnv(daemon.storageDir, { BOXAGENT_CONFIG: config });
      const r = await runCliAsync(['token', 'create', '--name', name, '--scopes', scopes], env);
      expect(r.status).toBe(0);
      return r.stdout.trim();
    };
    monitorToken = await token('monitor', 'read');
    counterToken = await token('counter', 'read,idcard');
    readOnly = await openSse(`${daemon.url}/v1/events`, { authorization: `Bearer ${monitorToken}` });
    counter = await openSse(`${daemon.url}/v1/events`, { authorization: `Bearer ${counterToken}` });
    await waitFor('the reader ready', async () => {
      const d = (await (await daemon.fetch('/v1/devices/reader-1')).json()) as { state: string };
      return d.state === 'ready';
    });
  });

  afterAll(async () => {
    events?.close();
    readOnly?.close();
    counter?.close();
    await daemon?.stop('SIGKILL');
    await sim?.stop();
    await pair?.close();
    if (daemon) removeDir(daemon.storageDir);
    removeDir(dir);
  });

  it('answers 404 no-card while no card has been read', async () => {
    const res = await daemon.fetch('/v1/idcard/reader-1/card', { headers: { 'accept-language': 'en' } });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain(PROBLEM);
    const body = (await res.json()) as { type: string; detail: string };
    expect(body.type).toBe('urn:boxagent:problem:no-card');
    expect(body.detail).toMatch(/no card was read on "reader-1" in the last 60 s/);
  });

  it('answers 404 not-found for a device that is not an ID card reader, or none', async () => {
    const printer = (await (
      await daemon.fetch('/v1/idcard/printer-1/card', { headers: { 'accept-language': 'en' } })
    ).json()) as {
      type: string;
      detail: string;
      field: string;
    };
    expect(printer).toMatchObject({ type: 'urn:boxagent:problem:not-found', field: '/device' });
    // One answer for a device of another kind and for none: the id names no ID card reader.
    expect(printer.detail).toBe('no idcard device "printer-1"');
    expect((await daemon.fetch('/v1/idcard/nope/card')).status).toBe(404);
  });

  it('reads a laid card: in full over the API, masked in the event and the logs', async () => {
    sim.present(SAMPLE_CARDS.zhang);
    await waitFor('the idcard.read event', () => cardEvents(events).length === 1, 20_000);
    const event = cardEvents(events)[0]!;
    expect(event).toMatchObject({
      device: 'reader-1',
      name: '张三',
      idNumber: MASKED_ID,
      idNumberMasked: true,
      idNumberCheck: { valid: true, reason: null },
      photo: { format: 'wlt', bytes: 1024, available: false },
    });
    expect(JSON.stringify(events.events)).not.toContain(FULL_ID);

    const res = await daemon.fetch('/v1/idcard/reader-1/card');
    expect(res.status).toBe(200);
    const card = (await res.json()) as Record<string, unknown> & { photo: { data: string } };
    expect(card).toMatchObject({
      device: 'reader-1',
      name: '张三',
      sex: { code: '1', name: '男' },
      nation: { code: '01', name: '汉' },
      birthDate: '1985-03-15',
      idNumber: FULL_ID,
      idNumberCheck: { valid: true },
      validTo: '2035-01-01',
      photo: { format: 'wlt', bytes: 1024, jpeg: null },
    });
    expect(Buffer.from(card.photo.data, 'base64').length).toBe(1024);

    // The full number needs scope idcard: a monitoring `read` token gets the card with the number masked.
    const asMonitor = (await (
      await daemon.fetch('/v1/idcard/reader-1/card', { token: monitorToken })
    ).json()) as { idNumber: string; name: string };
    expect(asMonitor).toMatchObject({ name: '张三', idNumber: MASKED_ID });
    const asCounter = (await (
      await daemon.fetch('/v1/idcard/reader-1/card', { token: counterToken })
    ).json()) as { idNumber: string };
    expect(asCounter.idNumber).toBe(FULL_ID);

    await waitFor('the read logged', () => daemon.logs.some((l) => l.msg === 'id card read'));
    expect(daemon.logs.find((l) => l.msg === 'id card read')).toMatchObject({
      device: 'reader-1',
      idNumber: MASKED_ID,
    });
    expect(JSON.stringify(daemon.logs)).not.toContain(FULL_ID);
  });

  it('sends card reads live only, and only to tokens with scope idcard', async () => {
    await waitFor('the card at the counter app', () => cardEvents(counter).length === 1);
    // Live only: no `id:`, so a reconnect does not move past kept events, and nothing to replay.
    expect(counter.events.find((e) => e.event === 'idcard.read')?.id).toBeUndefined();

    // A kept event published after the read (a print job queued, scope read): once the read-only stream has
    // it, the read had its chance to come before it.
    const res = await daemon.fetch('/v1/print-jobs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        printer: 'printer-1',
        document: {
          page: { widthMm: 210, heightMm: 297 },
          items: [{ type: 'text', xMm: 20, yMm: 30, text: 'fence', sizePt: 12 }],
        },
      }),
    });
    expect(res.status).toBe(202);
    const { id: job } = (await res.json()) as { id: string };
    const queued = (st: SseStream) => st.events.some((e) => e.event === 'print.job' && e.data.includes(job));
    await waitFor('the print job on the read-only stream', () => queued(readOnly));
    expect(readOnly.events.filter((e) => e.event === 'idcard.read')).toEqual([]);

    const replay = await openSse(`${daemon.url}/v1/events`, {
      authorization: `Bearer ${daemon.adminToken}`,
      'last-event-id': '0',
    });
    try {
      await waitFor('the replay up to the print job', () => queued(replay));
      expect(replay.events.filter((e) => e.event === 'idcard.read')).toEqual([]);
      expect(JSON.stringify(replay.events)).not.toContain('张三');
    } finally {
      replay.close();
    }
  });

  it('reads the card once while it lies there, and reports a failing ID number checksum on the next one', async () => {
    const reads = sim.count('readTextAndPhoto');
    const polls = sim.count('findCard');
    await waitFor('more polls', () => sim.count('findCard') >= polls + 3);
    expect(sim.count('readTextAndPhoto')).toBe(reads);
    expect(cardEvents(events)).toHaveLength(1);

    sim.remove();
    const afterRemoval = sim.count('findCard');
    await waitFor('the removal seen', () => sim.count('findCard') >= afterRemoval + 2);
    sim.present(SAMPLE_CARDS.badIdChecksum);
    await waitFor('the second event', () => cardEvents(events).length === 2, 20_000);
    expect(cardEvents(events)[1]).toMatchObject({
      name: '赵四',
      idNumber: '430***********1237',
      idNumberCheck: { valid: false },
    });
    const card = (await (await daemon.fetch('/v1/idcard/reader-1/card')).json()) as Record<string, unknown>;
    expect(card).toMatchObject({
      idNumber: '430102198503151237',
      idNumberCheck: {
        valid: false,
        expected: '6',
        reason: 'check character is 7, the first 17 digits give 6',
      },
    });
    expect(daemon.logs.some((l) => l.msg === 'id card read; its ID number fails the GB 11643 check')).toBe(
      true,
    );
  });

  it('logs a reader that stops answering once, not on every poll', async () => {
    const logMark = daemon.logs.length;
    sim.inject('silent');
    try {
      await waitFor(
        'the timeout logged',
        () => daemon.logs.slice(logMark).some((l) => l.msg === 'id card reader poll failed'),
        20_000,
      );
      // Two more polls that time out the same way.
      const polls = sim.count('findCard');
      await waitFor('two more silent polls', () => sim.count('findCard') >= polls + 2, 20_000);
    } finally {
      sim.clearFaults();
    }
    const failed = daemon.logs.slice(logMark).filter((l) => l.msg === 'id card reader poll failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ device: 'reader-1', kind: 'timeout' });
    expect(failed[0]!.err).toMatch(/findCard: no reply within 3000 ms/);
  });
});

describe('a simulated ID card reader with revealIdNumber', () => {
  let dir: string;
  let daemon: Daemon;

  beforeAll(async () => {
    dir = tempDir();
    const config = writeConfig(
      dir,
      [
        'box:',
        '  id: idcard-box-2',
        'devices:',
        '  - id: idcard-1',
        '    kind: idcard',
        '    transport: { type: simulated }',
        '    idcard: { revealIdNumber: true }',
        '',
      ].join('\n'),
    );
    daemon = await startDaemon({ config, storageDir: tempDir() });
  });

  afterAll(async () => {
    await daemon?.stop('SIGKILL');
    if (daemon) removeDir(daemon.storageDir);
    removeDir(dir);
  });

  it('reads the sample card, in full over the API, saying no decoder is configured', async () => {
    await waitFor(
      'the sample card read',
      async () => (await daemon.fetch('/v1/idcard/idcard-1/card')).status === 200,
    );
    const card = (await (await daemon.fetch('/v1/idcard/idcard-1/card')).json()) as {
      idNumber: string;
      photo: { jpeg: null; jpegUnavailable: string };
    };
    expect(card.idNumber).toBe(FULL_ID);
    expect(card.photo.jpeg).toBeNull();
    expect(card.photo.jpegUnavailable).toMatch(/no WLT decoder is configured/);
  });
});
