// Certificates section of `npm run bench`: composing the senior-citizen card (85.6 × 54 mm at 300 dpi,
// nine Chinese text lines rendered from Noto Sans Hans, one photo) as the JPEG the photo printer gets, and
// a Print-Job + Get-Job-Attributes round trip to Debian's ippeveprinter (needs root and cups-ipp-utils).
import sharp from 'sharp';
import { composeCertificate } from '../agent/certificates/compose.js';
import { loadCertificateTemplate } from '../agent/certificates/templates.js';
import { IppPhotoPrinter } from '../drivers/photo-printer/ipp-printer.js';
import { startIppPrinter } from '../tests/helpers/ipp-printer.js';
import type { BenchRow } from './printer.js';

const RUNS = 5;
const FIELDS = {
  name: '张秀英',
  sex: '女',
  birthDate: '1948-03-12',
  idNumber: '430102194803120025',
  cardNumber: 'HN-LY-2026-000117',
  issuer: '长沙县民政局',
  issueDate: '2026-11-26',
};

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchCertificates(): Promise<BenchRow[]> {
  const template = loadCertificateTemplate('senior-citizen-card');
  const photo = await sharp({ create: { width: 295, height: 413, channels: 3, background: '#bcd' } })
    .jpeg()
    .toBuffer();
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i <= RUNS; i++) {
    const t0 = performance.now();
    const card = await composeCertificate(template, FIELDS, photo, 'image/jpeg');
    times.push(performance.now() - t0);
    bytes = card.image.length;
  }
  const rows: BenchRow[] = [
    {
      metric: 'certificate: compose card, first run',
      value: `${times[0]!.toFixed(0)} ms`,
      notes: 'includes font loading',
    },
    {
      metric: 'certificate: compose card (median)',
      value: `${median(times.slice(1)).toFixed(1)} ms`,
      notes: `${RUNS} runs; 1011×638 JPEG q95, ${(bytes / 1024).toFixed(0)} kB`,
    },
  ];
  const printer = await startIppPrinter();
  try {
    const driver = new IppPhotoPrinter({ url: printer.url });
    await driver.open();
    const card = await composeCertificate(template, FIELDS, photo, 'image/jpeg');
    const t0 = performance.now();
    const job = await driver.submit({ data: card.image, format: 'image/jpeg', jobName: 'bench' });
    const submitted = performance.now() - t0;
    let state = job.state;
    while (state !== 'completed' && state !== 'aborted' && state !== 'canceled') {
      await new Promise((r) => setTimeout(r, 100));
      state = (await driver.job(job.id)).state;
    }
    rows.push(
      {
        metric: 'certificate: IPP Print-Job to ippeveprinter',
        value: `${submitted.toFixed(1)} ms`,
        notes: 'loopback through the test bridge; the card handed over',
      },
      {
        metric: 'certificate: until job-state completed',
        value: `${((performance.now() - t0) / 1000).toFixed(1)} s`,
        notes: `${state}; ippeveprinter simulates printing time (no print command)`,
      },
    );
  } finally {
    await printer.stop();
  }
  return rows;
}
