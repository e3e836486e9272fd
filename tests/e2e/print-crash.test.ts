// kill -9 of the daemon while a job is being sent: after restart the job is in_doubt and is not sent again.
// The printer is the in-process simulator taking data slowly; its job log (jobs.jsonl) outlives the process.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir, startDaemon, tempDir, writeConfig, type Daemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait-for.js';

const dir = tempDir();
const simDir = join(dir, 'sim');
const config = writeConfig(
  dir,
  `box: { id: crash-box }
storage: { dir: ${join(dir, 'state')} }
devices:
  - id: printer-1
    kind: printer
    transport: { type: simulated, bytesPerSecond: 4000, outputDir: ${simDir} }
`,
);
const daemons: Daemon[] = [];

afterAll(async () => {
  for (const d of daemons) await d.stop('SIGKILL');
  removeDir(dir);
});

async function start(): Promise<Daemon> {
  const d = await startDaemon({ config, storageDir: join(dir, 'state') });
  daemons.push(d);
  return d;
}

function simLog(): { event: string; job: number }[] {
  const file = join(simDir, 'jobs.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; job: number });
}

interface Job {
  id: string;
  state: string;
  error: string | null;
}

describe('a daemon killed mid-job', () => {
  it('finds the job in doubt after restart and does not print it again', async () => {
    const first = await start();
    // A photo across the page: well over 100 kB of bit image, half a minute at 4000 B/s.
    const photo = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#888888' } })
      .png()
      .toBuffer();
    const r = await first.fetch('/v1/print-jobs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        printer: 'printer-1',
        document: {
          page: { size: 'A4' },
          items: [
            { type: 'text', xMm: 20, yMm: 20, text: '张三 ZHANG San', sizePt: 12 },
            { type: 'image', xMm: 10, yMm: 40, widthMm: 190, heightMm: 120, data: photo.toString('base64') },
          ],
        },
      }),
    });
    expect(r.status).toBe(202);
    const { id } = (await r.json()) as Job;
    await waitFor(
      'the job to be sending and the printer to have started it',
      async () =>
        ((await (await first.fetch(`/v1/print-jobs/${id}`)).json()) as Job).state === 'sending' &&
        simLog().some((e) => e.event === 'started'),
      20_000,
    );
    await first.stop('SIGKILL');

    const second = await start();
    const after = (await (await second.fetch(`/v1/print-jobs/${id}`)).json()) as Job;
    expect(after.state).toBe('in_doubt');
    expect(after.error).toMatch(/stopped while this job was being sent/);
    const listed = (await (await second.fetch('/v1/print-jobs?state=in_doubt')).json()) as { jobs: Job[] };
    expect(listed.jobs.map((j) => j.id)).toEqual([id]);

    // Give a wrong resend every chance to show up in the printer's log: it must not.
    await new Promise((res) => setTimeout(res, 1500));
    expect(simLog().filter((e) => e.event === 'started')).toHaveLength(1);
    expect(((await (await second.fetch(`/v1/print-jobs/${id}`)).json()) as Job).state).toBe('in_doubt');

    // The operator checked the paper: it printed.
    const resolved = await second.fetch(`/v1/print-jobs/${id}/resolve`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ outcome: 'printed' }),
    });
    expect(resolved.status).toBe(200);
    expect(((await resolved.json()) as Job).state).toBe('done');
    const twice = await second.fetch(`/v1/print-jobs/${id}/resolve`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ outcome: 'reprint' }),
    });
    expect(twice.status).toBe(409);
    expect(simLog().filter((e) => e.event === 'started')).toHaveLength(1);
    // The operator's word is audited once, the refused second one not at all.
    const audit = (await (await second.fetch('/v1/audit?limit=1000')).json()) as {
      entries: { action: string; target: string | null; detail: Record<string, unknown> }[];
    };
    expect(audit.entries.filter((e) => e.action === 'print.resolve')).toEqual([
      expect.objectContaining({
        target: id,
        detail: expect.objectContaining({ outcome: 'printed' }) as unknown,
      }),
    ]);
  });
});
