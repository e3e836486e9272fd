// The senior-card (老年优待证) counter transaction end to end, over HTTP against the built daemon as a process:
// the card read (its photo through the `unpack` C decoder double in the decoder child process), a guided
// live capture from the simulated camera showing the same person (real ffmpeg, real face models), verify
// against the card, the application form printed from its template, the ID photo, the certificate with
// that photo, the seal confirmed, and the audit log of it all. The devices are the simulators (no real
// printer, press or reader can run here); everything between HTTP and them is the real daemon.
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MASKED_ID,
  RESIDENT,
  DEVICES,
  runTransaction,
  startCounterBox,
  type CounterBox,
  type TransactionResult,
} from '../helpers/counter-transaction.js';

let box: CounterBox;
let result: TransactionResult;
let auditBefore: number;

beforeAll(async () => {
  box = await startCounterBox();
  const { entries } = (await (await box.daemon.fetch('/v1/audit?limit=1000')).json()) as {
    entries: { seq: number }[];
  };
  auditBefore = entries.at(-1)?.seq ?? 0;
  result = await runTransaction(box.daemon, 'HN-CS-2026-000001');
}, 120_000);

afterAll(async () => {
  await box?.stop();
});

describe('the senior-card counter transaction', () => {
  it("reads the resident's card with the photo decoded", async () => {
    const { card } = result;
    expect(card).toMatchObject({
      name: RESIDENT.name,
      sex: { code: '1', name: '男' },
      birthDate: '1942-12-21',
      address: RESIDENT.address,
      idNumber: RESIDENT.idNumber, // the admin token has scope idcard
      idNumberCheck: { valid: true },
    });
    expect(card.photo).toMatchObject({ width: 102, height: 126 });
    const meta = await sharp(Buffer.from(card.photo.jpeg!, 'base64')).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 102, 126]);
  });

  it('captures a live face and finds it is the card holder', () => {
    expect(result.capture.face.liveness?.live).toBe(true);
    expect(result.capture.framesExamined).toBeGreaterThanOrEqual(1);
    expect(result.verify).toMatchObject({
      match: true,
      reference: { idcard: { device: DEVICES.reader, idNumber: MASKED_ID } },
    });
    expect(result.verify.score).toBeGreaterThanOrEqual(result.verify.threshold);
  });

  it('prints the application form filled from the card', () => {
    expect(result.form).toMatchObject({
      state: 'done',
      printer: DEVICES.printer,
      template: 'senior-card-form',
    });
    expect(result.form.bytes).toBeGreaterThan(0);
  });

  it('makes a 1-inch ID photo from the capture and prints it on the certificate', async () => {
    expect(result.idPhoto.size).toBe('295x413@300dpi');
    const meta = await sharp(result.idPhoto.jpeg).metadata();
    expect([meta.width, meta.height]).toEqual([295, 413]);
    expect(result.certificate).toMatchObject({ state: 'printed', seal: { device: DEVICES.seal } });
    const doc = await box.daemon.fetch(`/v1/certificates/${result.certificate.id}/document`);
    expect(doc.status).toBe(200);
    const card = await sharp(Buffer.from(await doc.arrayBuffer())).metadata();
    expect([card.format, card.width, card.height]).toEqual(['jpeg', 1011, 638]);
  });

  it('embosses the seal once the clerk confirms', () => {
    expect(result.seal).toMatchObject({
      id: result.certificate.seal!.jobId,
      state: 'done',
      document: { kind: 'senior-citizen-card', number: 'HN-CS-2026-000001' },
    });
  });

  it('keeps an audit entry for each step, in order, with no personal data but the masked number', async () => {
    const { entries } = (await (
      await box.daemon.fetch(`/v1/audit?after=${auditBefore}&limit=1000`)
    ).json()) as {
      entries: { action: string; target: string | null; detail: Record<string, unknown> }[];
    };
    // The sample card the simulated reader starts with was read too (by the page looking before the swap).
    const steps = entries
      .filter((e) => e.action !== 'idcard.read' || e.detail.idNumber === MASKED_ID)
      .map((e) => e.action);
    const order = [
      'idcard.read',
      'face.capture',
      'face.verify',
      'print.create',
      'photo.id-photo',
      'certificate.create',
      'seal.create',
      'seal.firing',
      'seal.executed',
    ];
    expect(steps.filter((a) => order.includes(a))).toEqual(order);
    // Once per card read and caller, however often the page asks.
    const reads = entries.filter((e) => e.action === 'idcard.read' && e.detail.idNumber === MASKED_ID);
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({ target: DEVICES.reader });
    expect(entries.find((e) => e.action === 'face.verify')).toMatchObject({
      detail: { reference: 'idcard', idcard: { idNumber: MASKED_ID }, match: true },
    });
    const text = JSON.stringify(entries);
    expect(text).not.toContain(RESIDENT.idNumber);
    expect(text).not.toContain(RESIDENT.name);
    expect(text).not.toContain(RESIDENT.address);
    expect(text).not.toMatch(/\/9j\//); // no JPEG (photo, frame) in the log
  });
});
