// The ID card reader driver on one end of a real socat pty pair at 115200 8N1, the reader simulator on the
// other: cards read once per presentation, and the no-card, bad-checksum, short-frame and timeout paths.
import { afterEach, describe, expect, it } from 'vitest';
import { DeviceAbsentError } from '../../drivers/device.js';
import { IdCardReader, IdCardReaderError, type CardRead } from '../../drivers/idcard/reader.js';
import { IdCardReaderSimulator, SAMPLE_CARDS } from '../../drivers/idcard/simulator.js';
import { openSerial } from '../../drivers/transport/serial.js';
import { removeDir, tempDir } from '../helpers/daemon.js';
import { openPtyPair, serialOptions, type PtyPair } from '../helpers/pty-pair.js';
import { waitFor } from '../helpers/wait-for.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Rig {
  reader: IdCardReader;
  sim: IdCardReaderSimulator;
  cards: CardRead[];
  errors: IdCardReaderError[];
}

// Generous timeouts: a loaded 2-core CI box must not turn a slow reply into a spurious timeout.
async function rig(
  opts: { open?: boolean; commandTimeoutMs?: number } = {},
): Promise<Rig & { pair: PtyPair }> {
  const dir = tempDir();
  const pair = await openPtyPair(dir, 'idcard');
  cleanups.push(
    () => removeDir(dir),
    () => pair.close(),
  );
  const sim = new IdCardReaderSimulator(await openSerial(serialOptions(pair.peer)));
  sim.start();
  cleanups.push(() => sim.stop());
  const reader = new IdCardReader({
    openLink: () => openSerial(serialOptions(pair.device)),
    pollIntervalMs: 50,
    commandTimeoutMs: opts.commandTimeoutMs ?? 2000,
    readTimeoutMs: 3000,
  });
  cleanups.push(() => reader.close());
  const cards: CardRead[] = [];
  const errors: IdCardReaderError[] = [];
  reader.onCard((c) => cards.push(c));
  reader.onPollError((e) => errors.push(e));
  if (opts.open !== false) await reader.open();
  return { reader, sim, cards, errors, pair };
}

describe('ID card reader over a pty', () => {
  it('checks the SAM on open and reads a presented card with its fields and WLT photo', async () => {
    const { reader, sim, cards } = await rig();
    expect(sim.count('samStatus')).toBe(1);
    sim.present(SAMPLE_CARDS.zhang);
    await waitFor('a card read', () => cards.length === 1);
    const card = cards[0]!;
    expect(card).toMatchObject({
      name: '张三',
      sex: { code: '1', name: '男' },
      nation: { code: '01', name: '汉' },
      birthDate: '1985-03-15',
      idNumber: '430102198503151236',
      idNumberCheck: { valid: true },
      validTo: '2035-01-01',
    });
    expect(card.photo.format).toBe('wlt');
    expect(Buffer.from(card.photo.data, 'base64').length).toBe(1024);
    expect(card.photo.jpeg).toBeNull();
    expect(card.photo.jpegUnavailable).toMatch(/no WLT decoder is configured/);
    await expect(reader.probe()).resolves.toBeUndefined();
  });

  it('reads a card once per presentation; after removal the next card is read', async () => {
    const { sim, cards } = await rig();
    sim.present(SAMPLE_CARDS.zhang);
    await waitFor('first card', () => cards.length === 1);
    // Many more polls while the card lies there: still one read.
    const polls = sim.count('findCard');
    await waitFor('more polls', () => sim.count('findCard') >= polls + 5);
    expect(cards.length).toBe(1);
    expect(sim.count('readTextAndPhoto')).toBe(1);
    sim.remove();
    const afterRemoval = sim.count('findCard');
    await waitFor('the removal seen', () => sim.count('findCard') >= afterRemoval + 2);
    sim.present(SAMPLE_CARDS.longTerm);
    await waitFor('second card', () => cards.length === 2);
    expect(cards[1]).toMatchObject({
      name: '李秀英',
      validTo: '长期',
      sex: { name: '女' },
      nation: { name: '苗' },
    });
  });

  it('reports rare-character names as decoded, and a failing ID number checksum', async () => {
    const { sim, cards } = await rig();
    sim.present(SAMPLE_CARDS.rareName);
    await waitFor('rare name', () => cards.length === 1);
    sim.remove();
    const m = sim.count('findCard');
    await waitFor('removal', () => sim.count('findCard') >= m + 2);
    sim.present(SAMPLE_CARDS.privateUseName);
    await waitFor('private-use name', () => cards.length === 2);
    sim.remove();
    const n = sim.count('findCard');
    await waitFor('removal', () => sim.count('findCard') >= n + 2);
    sim.present(SAMPLE_CARDS.badIdChecksum);
    await waitFor('bad checksum card', () => cards.length === 3);
    expect(cards[0]).toMatchObject({ name: '刘䶮', nameHasPrivateUseChars: false });
    expect(cards[1]).toMatchObject({ name: '王\uE0A5明', nameHasPrivateUseChars: true });
    expect(cards[2]!.idNumberCheck).toEqual({
      valid: false,
      expected: '6',
      reason: 'check character is 7, the first 17 digits give 6',
    });
  });

  it('reads nothing while no card is on the reader, without errors', async () => {
    const { sim, cards, errors } = await rig();
    await waitFor('polls', () => sim.count('findCard') >= 5);
    expect(sim.count('selectCard')).toBe(0);
    expect(cards).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('reports a reply with a bad frame checksum and reads the card on the next poll', async () => {
    const { sim, cards, errors } = await rig();
    sim.inject('bad-checksum', { command: 'readTextAndPhoto', times: 1 });
    sim.present(SAMPLE_CARDS.zhang);
    await waitFor('the card read after the retry', () => cards.length === 1);
    expect(errors.map((e) => e.kind)).toEqual(['checksum']);
    expect(errors[0]!.message).toMatch(/readTextAndPhoto: bad reply frame: checksum/);
    expect(sim.count('readTextAndPhoto')).toBe(2);
  });

  it('reports a short read reply and reads the card on the next poll', async () => {
    const { sim, cards, errors } = await rig();
    sim.inject('short-frame', { command: 'readTextAndPhoto', times: 1 });
    sim.present(SAMPLE_CARDS.zhang);
    await waitFor('the card read after the retry', () => cards.length === 1);
    expect(errors.map((e) => e.kind)).toEqual(['short']);
    expect(errors[0]!.message).toMatch(/read reply holds 100 bytes/);
  });

  it('reports a select failure status', async () => {
    const { sim, cards, errors } = await rig();
    sim.inject('failure-status', { command: 'selectCard', times: 1 });
    sim.present(SAMPLE_CARDS.zhang);
    await waitFor('the card read after the retry', () => cards.length === 1);
    expect(errors.map((e) => [e.kind, e.status])).toEqual([['status', 0x81]]);
    expect(errors[0]!.message).toBe('select card: select failed');
  });

  it('times out on a silent reader, fails the probe, and recovers when it answers again', async () => {
    const { reader, sim, cards, errors } = await rig({ commandTimeoutMs: 300 });
    sim.inject('silent');
    await waitFor('a timeout', () => errors.length >= 1);
    expect(errors[0]!.kind).toBe('timeout');
    expect(errors[0]!.message).toMatch(/findCard: no reply within 300 ms/);
    await expect(reader.probe()).rejects.toThrow(/samStatus: no reply within 300 ms/);
    sim.clearFaults();
    sim.present(SAMPLE_CARDS.zhang);
    await waitFor('the card read after recovery', () => cards.length === 1);
  });

  it('refuses to open when the SAM does not answer', async () => {
    const { reader, sim } = await rig({ open: false, commandTimeoutMs: 300 });
    sim.inject('silent', { command: 'samStatus' });
    await expect(reader.open()).rejects.toBeInstanceOf(IdCardReaderError);
  });

  it('says plainly that without a decoder the photo stays WLT', async () => {
    const { sim, cards } = await rig();
    sim.present(SAMPLE_CARDS.zhang);
    await waitFor('a card read', () => cards.length === 1);
    expect(cards[0]!.photo.jpeg).toBeNull();
    expect(cards[0]!.photo.bytes).toBe(1024);
    expect(cards[0]!.photo.jpegUnavailable).toMatch(/no WLT decoder is configured \(idcard\.decoder\)/);
  });

  it('notices an unplugged adapter: polls stop, the probe fails, reopening says absent', async () => {
    const { reader, pair } = await rig();
    await pair.close();
    // The pty reports the vanished peer on the next I/O; polling provides that I/O.
    await waitFor('the probe to fail', async () => {
      try {
        await reader.probe();
        return false;
      } catch (err) {
        return err instanceof IdCardReaderError && err.kind === 'link';
      }
    });
    await reader.close();
    await expect(reader.open()).rejects.toBeInstanceOf(DeviceAbsentError);
  });
});
