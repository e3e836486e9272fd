// The daemon's side of the vendor WLT decoder: one child process (wlt-decoder-host.js) that holds the
// library, asked over IPC one photo at a time with a timeout. A decode that crashes the child or outlives
// its timeout fails with a clear error; the child is then gone (killed, for a hang) and the next decode
// starts a fresh one. A library that cannot be loaded fails `start()` with the reason.
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DecoderHostSpec, HostReply, HostRequest } from './wlt-decoder-host.js';
import { PHOTO_HEIGHT, PHOTO_WIDTH, photoToRgb, type PixelLayout } from './wlt-photo.js';

export interface WltDecoderOptions extends PixelLayout {
  library: string;
  abi: DecoderHostSpec['abi'];
  /** The exported name when not the ABI's own. */
  symbol?: string;
  saveBmp: number;
  timeoutMs: number;
}

export type WltDecoderErrorKind = 'start' | 'crashed' | 'timeout' | 'refused' | 'layout';

export class WltDecoderError extends Error {
  override name = 'WltDecoderError';
  constructor(
    readonly kind: WltDecoderErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export interface DecodedPhoto {
  width: number;
  height: number;
  /** RGB, rows top-down. */
  rgb: Buffer;
}

/** The host script beside this module (dist/drivers/idcard/ in a build). */
export const DECODER_HOST = fileURLToPath(new URL('./wlt-decoder-host.js', import.meta.url));
/** Loading a library is quick; a constructor that hangs is not, and must not hold the device open forever. */
const START_TIMEOUT_MS = 10_000;

function hostSpec(opts: WltDecoderOptions): DecoderHostSpec {
  return { library: opts.library, abi: opts.abi, symbol: opts.symbol ?? opts.abi, saveBmp: opts.saveBmp };
}

interface Pending {
  /** The child asked: only its own exit fails this request. */
  child: ChildProcess;
  resolve: (reply: HostReply) => void;
  reject: (err: WltDecoderError) => void;
}

export class WltDecoder {
  private child: ChildProcess | undefined;
  private ready: Promise<ChildProcess> | undefined;
  private pending: Pending | undefined;
  private nextId = 1;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly opts: WltDecoderOptions,
    private readonly hostScript = DECODER_HOST,
  ) {}

  /** Starts the child and waits until it has loaded the library; throws WltDecoderError('start'). */
  async start(): Promise<void> {
    await this.running();
  }

  /** Decodes one WLT photo into RGB pixels. */
  decode(wlt: Buffer): Promise<DecodedPhoto> {
    const run = (): Promise<DecodedPhoto> => this.decodeNow(wlt);
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    this.ready = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
    }
  }

  private async decodeNow(wlt: Buffer): Promise<DecodedPhoto> {
    const child = await this.running();
    const id = this.nextId++;
    const reply = await new Promise<HostReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        // A hung vendor call never returns: only killing the process frees it. The next decode starts a
        // new one at once, without waiting for this one's exit.
        this.forget(child);
        child.kill('SIGKILL');
        reject(
          new WltDecoderError(
            'timeout',
            `the WLT decoder did not return within ${this.opts.timeoutMs} ms; it was stopped and restarts for the next card`,
          ),
        );
      }, this.opts.timeoutMs);
      this.pending = {
        child,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const request: HostRequest = { type: 'decode', id, wlt: new Uint8Array(wlt) };
      child.send(request);
    });
    if (reply.type === 'failed') throw new WltDecoderError('refused', reply.message);
    if (reply.type !== 'decoded') throw new WltDecoderError('refused', `unexpected reply ${reply.type}`);
    if (reply.status !== 1) {
      throw new WltDecoderError(
        'refused',
        `the WLT decoder returned ${reply.status} (1 means success): the photo data may be damaged`,
      );
    }
    try {
      const rgb = photoToRgb(Buffer.from(reply.out), this.opts);
      return { width: PHOTO_WIDTH, height: PHOTO_HEIGHT, rgb };
    } catch (err) {
      throw new WltDecoderError('layout', (err as Error).message);
    }
  }

  /** The running child, started (and the library loaded) if need be. */
  private running(): Promise<ChildProcess> {
    if (this.child && this.ready) return this.ready;
    const child = fork(this.hostScript, [JSON.stringify(hostSpec(this.opts))], {
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      // Vendors look for their licence files beside the library.
      cwd: existsSync(dirname(this.opts.library)) ? dirname(this.opts.library) : undefined,
      execArgv: [],
    });
    this.child = child;
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (s: string) => {
      stderr = (stderr + s).slice(-2000);
    });
    const ready = new Promise<ChildProcess>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(
          new WltDecoderError(
            'start',
            `${this.opts.library} did not finish loading within ${START_TIMEOUT_MS} ms`,
          ),
        );
      }, START_TIMEOUT_MS);
      child.on('message', (reply: HostReply) => {
        if (reply.type === 'ready') {
          clearTimeout(timer);
          resolve(child);
        } else if (reply.type === 'start-failed') {
          clearTimeout(timer);
          reject(new WltDecoderError('start', reply.reason));
        } else if (this.pending?.child === child) {
          this.pending.resolve(reply);
          this.pending = undefined;
        }
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        this.forget(child);
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        const last = stderr.trim().split('\n').pop();
        reject(
          new WltDecoderError(
            'start',
            `the WLT decoder process ${how} while loading ${this.opts.library}${last ? ` (${last})` : ''}`,
          ),
        );
        const p = this.pending;
        if (p?.child !== child) return;
        this.pending = undefined;
        p.reject(
          new WltDecoderError(
            'crashed',
            `the WLT decoder ${how} while decoding the photo; it restarts for the next card`,
          ),
        );
      });
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(new WltDecoderError('start', `cannot start the WLT decoder process: ${err.message}`));
      });
    });
    // A failed start leaves no child behind for the next attempt to trip over.
    this.ready = ready.catch((err: unknown) => {
      this.forget(child);
      throw err;
    });
    return this.ready;
  }

  /** Drops a child that is dead or being killed, so the next decode starts a fresh one. */
  private forget(child: ChildProcess): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.ready = undefined;
  }
}

/**
 * For `boxagent doctor`: loads the library and resolves the symbol in a throwaway child (a library that
 * crashes on load takes only that child down). Returns null when fine, else the reason.
 */
export function checkDecoderLibrary(opts: WltDecoderOptions, hostScript = DECODER_HOST): string | null {
  if (!existsSync(hostScript)) return `the decoder host ${hostScript} is missing (build the project)`;
  const r = spawnSync(process.execPath, [hostScript, '--check', JSON.stringify(hostSpec(opts))], {
    encoding: 'utf8',
    timeout: START_TIMEOUT_MS,
    cwd: existsSync(dirname(opts.library)) ? dirname(opts.library) : undefined,
  });
  if (r.error) return `cannot run the decoder check: ${r.error.message}`;
  if (r.signal) return `loading ${opts.library} killed the check process (${r.signal})`;
  try {
    const verdict = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as { ok: boolean; reason?: string };
    return verdict.ok ? null : (verdict.reason ?? 'unknown reason');
  } catch {
    return `the decoder check printed no verdict (exit ${r.status}): ${r.stderr.trim().slice(-300)}`;
  }
}
