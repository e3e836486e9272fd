// A counter box for fault tests: the dot-matrix printer and the seal machine as simulators on the far end of
// real socat pty pairs, held by the test process. The daemon (spawned separately) opens the other ends, so
// when it is killed the simulators — and their own logs of what was printed and pressed — live on.
import { DEFAULT_SETUP } from '../../drivers/printer/forms.js';
import { PrinterSimulatorEndpoint } from '../../drivers/printer/simulator-endpoint.js';
import { resolveSealProfile } from '../../drivers/seal/profile.js';
import { SealSimulator } from '../../drivers/seal/simulator.js';
import { openSerial } from '../../drivers/transport/serial.js';
import { postJson, writeConfig, type Daemon } from './daemon.js';
import { openPtyPair, serialOptions, type PtyPair } from './pty-pair.js';

export interface CounterBox {
  config: string;
  /** The printer simulator on the current pty (a replug makes a new one; pages of all of them count). */
  readonly printer: PrinterSimulatorEndpoint;
  /** The seal simulator on the current pty. */
  readonly seal: SealSimulator;
  /** Every press any seal simulator of this box made. */
  presses(): number;
  /** Text of every page the printer simulators have ejected, in order. */
  pageTexts(): string[];
  /** How many pages carry `marker` (a job's unique text). */
  pagesWith(marker: string): number;
  /** Kills the printer's socat: the serial device vanishes, like a pulled USB adapter. */
  unplugPrinter(): Promise<void>;
  /** A new pty at the same path with a fresh printer simulator on it. */
  replugPrinter(): Promise<void>;
  unplugSeal(): Promise<void>;
  replugSeal(): Promise<void>;
  close(): Promise<void>;
}

export interface CounterBoxOptions {
  /** The printer's pace (bytes/s); slow enough that a kill lands mid-job. */
  printerBytesPerSecond?: number;
  sealStampDelayMs?: number;
  sealConfirmWindowMs?: number;
  storageDir: string;
}

export async function startCounterBox(dir: string, opts: CounterBoxOptions): Promise<CounterBox> {
  const printers: PrinterSimulatorEndpoint[] = [];
  // Only each page's text is kept: the decoded bitmaps of hundreds of pages would take gigabytes.
  const texts: string[] = [];
  const seals: SealSimulator[] = [];
  let printerPair: PtyPair | undefined;
  let sealPair: PtyPair | undefined;

  async function plugPrinter(): Promise<PtyPair> {
    const pair = await openPtyPair(dir, 'printer');
    printers.push(
      await PrinterSimulatorEndpoint.serial(pair.peer, {
        setup: DEFAULT_SETUP,
        keepPages: 1,
        onPage: (page) => texts.push(page.cells.map((c) => c.ch).join('')),
        ...(opts.printerBytesPerSecond ? { bytesPerSecond: opts.printerBytesPerSecond } : {}),
      }),
    );
    return pair;
  }
  async function plugSeal(): Promise<PtyPair> {
    const pair = await openPtyPair(dir, 'seal');
    const sim = new SealSimulator(
      await openSerial(serialOptions(pair.peer, 9600)),
      resolveSealProfile('default'),
      {
        serial: 'SN-REL-1',
        stampDelayMs: opts.sealStampDelayMs ?? 50,
      },
    );
    sim.start();
    seals.push(sim);
    return pair;
  }
  printerPair = await plugPrinter();
  sealPair = await plugSeal();

  const config = writeConfig(
    dir,
    [
      'box: { id: reliability-box }',
      `storage: { dir: "${opts.storageDir}" }`,
      'supervision: { probeIntervalMs: 500, backoffInitialMs: 100, backoffMaxMs: 1000 }',
      'devices:',
      '  - id: printer-1',
      '    kind: printer',
      `    transport: { type: serial, path: "${printerPair.device}", baudRate: 9600 }`,
      '  - id: seal-1',
      '    kind: seal',
      `    transport: { type: serial, path: "${sealPair.device}", baudRate: 9600 }`,
      `    seal: { profile: default, confirmWindowMs: ${opts.sealConfirmWindowMs ?? 600_000} }`,
      '',
    ].join('\n'),
  );
  const pageTexts = (): string[] => [...texts];
  return {
    config,
    get printer() {
      return printers.at(-1) as PrinterSimulatorEndpoint;
    },
    get seal() {
      return seals.at(-1) as SealSimulator;
    },
    presses: () => seals.reduce((n, s) => n + s.stamps.length, 0),
    pageTexts,
    pagesWith: (marker) => pageTexts().filter((t) => t.includes(marker)).length,
    async unplugPrinter() {
      await printerPair?.close();
      printerPair = undefined;
    },
    async replugPrinter() {
      printerPair = await plugPrinter();
    },
    async unplugSeal() {
      await sealPair?.close();
      sealPair = undefined;
    },
    async replugSeal() {
      sealPair = await plugSeal();
    },
    async close() {
      for (const p of printers) await p.close().catch(() => undefined);
      for (const s of seals) await s.stop().catch(() => undefined);
      await printerPair?.close();
      await sealPair?.close();
    },
  };
}

/** The seed from RELIABILITY_SEED, or a fresh one; printed so the run can be repeated. */
export function runSeed(): number {
  const raw = process.env.RELIABILITY_SEED;
  const seed = raw ? Number(raw) : Math.floor(Math.random() * 2 ** 31);
  process.stderr.write(`reliability seed: ${seed} (repeat with RELIABILITY_SEED=${seed})\n`);
  return seed;
}

export interface PendingSealJob {
  id: string;
  confirmationToken: string;
}

/** Creates a pending seal job on the counter box's seal machine (`seal-1`), as the clerk's software does. */
export async function createSealJob(daemon: Daemon, number: string): Promise<PendingSealJob> {
  const r = await daemon.fetch(
    '/v1/seal-jobs',
    postJson({ device: 'seal-1', document: { kind: 'senior-citizen-card', number }, operator: 'clerk Li' }),
  );
  if (r.status !== 201) throw new Error(`seal job not created: ${r.status} ${await r.text()}`);
  return (await r.json()) as PendingSealJob;
}
