// The daemon driving a printer over raw TCP (port-9100 style): the printer simulator listens in the test
// process and decodes what the daemon sends.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SETUP } from '../../drivers/printer/forms.js';
import { PrinterSimulatorEndpoint } from '../../drivers/printer/simulator-endpoint.js';
import { removeDir, startDaemon, tempDir, writeConfig, type Daemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait-for.js';

const dir = tempDir();
let sim: PrinterSimulatorEndpoint & { port: number };
let daemon: Daemon;

beforeAll(async () => {
  sim = await PrinterSimulatorEndpoint.tcp(0, { setup: DEFAULT_SETUP });
  const config = writeConfig(
    dir,
    `box: { id: tcp-box }
storage: { dir: ${join(dir, 'state')} }
devices:
  - id: lq-net
    kind: printer
    transport: { type: tcp, host: 127.0.0.1, port: ${sim.port} }
    printer: { calibration: { xMm: 1.5, yMm: -2 } }
`,
  );
  daemon = await startDaemon({ config, storageDir: join(dir, 'state') });
});

afterAll(async () => {
  await daemon.stop('SIGKILL');
  await sim.close();
  removeDir(dir);
});

describe('a printer on TCP', () => {
  it('prints the minimal document; with calibration the bytes move and the page comes out where asked', async () => {
    await waitFor('printer ready', async () => {
      const d = (await (await daemon.fetch('/v1/devices/lq-net')).json()) as { state: string };
      return d.state === 'ready';
    });
    const r = await daemon.fetch('/v1/print-jobs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        printer: 'lq-net',
        document: {
          page: { widthMm: 210, heightMm: 297 },
          items: [{ type: 'text', xMm: 20, yMm: 30, text: '张三 ZHANG San', sizePt: 12 }],
        },
      }),
    });
    expect(r.status).toBe(202);
    const { id } = (await r.json()) as { id: string };
    await waitFor('the page', () => sim.printer.pages.length === 1, 15_000);
    // The simulator is a printer with no mechanical offset: it shows where the calibrated bytes point.
    const first = sim.printer.pages[0]!.cells[0]!;
    expect(first.ch).toBe('张');
    expect(Math.abs(first.x - (21.5 * 180) / 25.4)).toBeLessThanOrEqual(1);
    expect(Math.abs(first.y - (28 * 180) / 25.4)).toBeLessThanOrEqual(1);
    await waitFor('job done', async () => {
      const j = (await (await daemon.fetch(`/v1/print-jobs/${id}`)).json()) as { state: string };
      return j.state === 'done';
    });
  });
});
