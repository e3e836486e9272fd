// A face camera: one ffmpeg capture (plus one for the infrared half of a dual RGB + IR module), the latest
// frame in memory for snapshots and viewers, and frames handed out to whoever waits for the next one.
// When ffmpeg exits or stalls the camera reports itself lost, so the supervisor restarts it with backoff.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { basename } from 'node:path';
import { DeviceAbsentError, type DeviceDriver, type DeviceIdentity, type SelfTestResult } from '../device.js';
import { ffmpegArgs, type CameraSource, type CaptureFormat } from './ffmpeg-args.js';
import { FfmpegFrameSource, type Frame, type FrameListener } from './frame-source.js';

export type { Frame, FrameListener } from './frame-source.js';

export interface CameraOptions {
  source: CameraSource;
  /** The infrared half of a dual module; its frames are paired with the RGB ones by time. */
  irSource?: CameraSource;
  format: CaptureFormat;
  /** No frame for this long: the capture is restarted. */
  stallMs: number;
  /** Shown as the device's model when the source does not name itself. */
  model: string;
  ffmpegPath?: string;
  /** ffmpeg's stderr, line by line (logged at debug). */
  onStderr?: (line: string, source: 'rgb' | 'ir') => void;
}

export interface FramePair {
  rgb: Frame;
  /** The IR frame nearest in time, when there is an IR source and one is close enough. */
  ir?: Frame;
}

const IR_KEEP = 8;
const FPS_WINDOW_MS = 5000;

export class CameraDevice implements DeviceDriver {
  private rgb?: FfmpegFrameSource;
  private ir?: FfmpegFrameSource;
  private readonly irFrames: Frame[] = [];
  private readonly frameTimes: number[] = [];
  private readonly listeners = new Set<FrameListener>();
  private lostListener?: (err: Error) => void;
  private failure?: Error;

  constructor(readonly options: CameraOptions) {}

  /** The configured capture size and rate. */
  get format(): CaptureFormat {
    return this.options.format;
  }

  async open(): Promise<DeviceIdentity> {
    this.failure = undefined;
    this.checkAttached();
    const rgb = (this.rgb = this.startSource(this.options.source, 'rgb'));
    try {
      await rgb.start();
      if (this.options.irSource) {
        const ir = (this.ir = this.startSource(this.options.irSource, 'ir'));
        ir.onFrame((frame) => {
          this.irFrames.push(frame);
          if (this.irFrames.length > IR_KEEP) this.irFrames.shift();
        });
        await ir.start();
      }
    } catch (err) {
      await this.close();
      throw err;
    }
    return this.identity();
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- async so a throw becomes a rejection
  async probe(): Promise<void> {
    if (this.failure) throw this.failure;
    this.checkAttached();
    if (!this.rgb) throw new Error('camera is not open');
  }

  selfTest(): Promise<SelfTestResult> {
    const frame = this.latest();
    if (!frame || this.failure) {
      return Promise.resolve({ ok: false, summary: this.failure?.message ?? 'no frame yet' });
    }
    const { width, height } = this.options.format;
    const ir = this.options.irSource ? `, IR ${this.irFrames.length > 0 ? 'streaming' : 'silent'}` : '';
    return Promise.resolve({
      ok: this.options.irSource === undefined || this.irFrames.length > 0,
      summary: `streaming ${width}×${height} at ${this.measuredFps().toFixed(1)} fps${ir}`,
      details: { fps: this.measuredFps(), lastFrameBytes: frame.jpeg.length },
    });
  }

  async close(): Promise<void> {
    const sources = [this.rgb, this.ir];
    this.rgb = undefined;
    this.ir = undefined;
    this.irFrames.length = 0;
    await Promise.all(sources.map((s) => (s ? s.stop() : Promise.resolve())));
  }

  onLost(listener: (err: Error) => void): void {
    this.lostListener = listener;
  }

  /** The latest RGB frame, if the capture runs. */
  latest(): Frame | undefined {
    return this.rgb?.latest();
  }

  /** The latest RGB frame and the IR frame taken nearest to it (within 1.5 frame intervals). */
  latestPair(): FramePair | undefined {
    const rgb = this.latest();
    return rgb ? this.pairOf(rgb) : undefined;
  }

  pairOf(rgb: Frame): FramePair {
    const maxSkew = (1.5 * 1000) / this.options.format.fps;
    let best: Frame | undefined;
    for (const f of this.irFrames) {
      if (
        Math.abs(f.at - rgb.at) <= maxSkew &&
        (!best || Math.abs(f.at - rgb.at) < Math.abs(best.at - rgb.at))
      )
        best = f;
    }
    return best ? { rgb, ir: best } : { rgb };
  }

  /** Every RGB frame as it arrives; returns the unsubscribe function. */
  onFrame(listener: FrameListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The first RGB frame newer than `afterSeq`: the latest one if it is, else the next to arrive. */
  nextFrame(afterSeq: number, timeoutMs: number): Promise<Frame | undefined> {
    const latest = this.latest();
    if (latest && latest.seq > afterSeq) return Promise.resolve(latest);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        off();
        resolve(undefined);
      }, timeoutMs);
      const off = this.onFrame((frame) => {
        clearTimeout(timer);
        off();
        resolve(frame);
      });
    });
  }

  /** Frames per second over the last few seconds. */
  measuredFps(): number {
    const now = performance.now();
    const recent = this.frameTimes.filter((t) => now - t <= FPS_WINDOW_MS);
    if (recent.length < 2) return 0;
    return ((recent.length - 1) * 1000) / (recent[recent.length - 1]! - recent[0]!);
  }

  /** ffmpeg's process id (tests kill it to check the restart). */
  get capturePid(): number | undefined {
    return this.rgb?.pid;
  }

  /**
   * Points the RGB capture at another source. A running capture switches without a gap: the new source starts
   * (and must give a frame) before the old one stops; if it fails the old one keeps running and this throws.
   */
  protected async replaceSource(source: CameraSource): Promise<void> {
    const old = this.rgb;
    if (!old || this.failure) {
      this.options.source = source; // taken by the next open
      return;
    }
    const next = this.startSource(source, 'rgb');
    try {
      await next.start();
    } catch (err) {
      await next.stop();
      throw err;
    }
    this.options.source = source;
    this.rgb = next;
    await old.stop();
  }

  /** A lost capture: remembered for the next probe and reported to the supervisor at once. */
  protected lost(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.lostListener?.(err);
  }

  /** Throws DeviceAbsentError when a V4L2 source's node is gone (unplugged). */
  protected checkAttached(): void {
    for (const source of [this.options.source, this.options.irSource]) {
      if (source?.kind === 'v4l2' && !existsSync(source.path)) {
        throw new DeviceAbsentError(`${source.path} is not there (camera unplugged?)`);
      }
    }
  }

  private startSource(source: CameraSource, which: 'rgb' | 'ir'): FfmpegFrameSource {
    const s = new FfmpegFrameSource({
      args: ffmpegArgs(source, this.options.format),
      stallMs: this.options.stallMs,
      ffmpegPath: this.options.ffmpegPath,
      onStderr: (line) => this.options.onStderr?.(line, which),
    });
    if (which === 'rgb') {
      s.onFrame((frame) => {
        this.frameTimes.push(frame.at);
        while (this.frameTimes.length > 0 && frame.at - this.frameTimes[0]! > FPS_WINDOW_MS)
          this.frameTimes.shift();
        for (const listener of this.listeners) listener(frame);
      });
    }
    s.onEnd((err) => {
      const absent = (() => {
        try {
          this.checkAttached();
          return undefined;
        } catch (e) {
          return e as Error;
        }
      })();
      this.lost(absent ?? new Error(`${which === 'ir' ? 'IR capture: ' : ''}${err.message}`));
    });
    return s;
  }

  private identity(): DeviceIdentity {
    const source = this.options.source;
    if (source.kind !== 'v4l2') return { model: this.options.model };
    // A V4L2 node names its camera in sysfs (the UVC product string).
    try {
      const node = basename(realpathSync(source.path));
      const name = readFileSync(`/sys/class/video4linux/${node}/name`, 'utf8').trim();
      return { model: name || this.options.model };
    } catch {
      return { model: this.options.model };
    }
  }
}
