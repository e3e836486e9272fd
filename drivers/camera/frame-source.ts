// One ffmpeg child reading one camera source and writing MJPEG on a pipe; the frames are split out and the
// latest is kept in memory. It reports its end (exit, spawn failure, stall) once, with a summary of what
// ffmpeg said on stderr; restarting is the owner's business.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { JpegFrameSplitter } from './jpeg-splitter.js';

export interface Frame {
  jpeg: Buffer;
  /** Increasing across every source of the process. */
  seq: number;
  /** performance.now() when the frame was split out of the pipe. */
  at: number;
}

export type FrameListener = (frame: Frame) => void;

/** ffmpeg is not installed (or not on PATH). */
export class FfmpegMissingError extends Error {
  override name = 'FfmpegMissingError';
  constructor(binary: string) {
    super(`ffmpeg not found (${binary}): apt-get install ffmpeg`);
  }
}

const STDERR_KEEP_LINES = 20;
/** Frame numbers are unique in the process, across restarts and sources, so "a frame after N" is well defined. */
let lastSeq = 0;

export interface FrameSourceOptions {
  args: string[];
  /** No frame for this long ends the source as stalled. */
  stallMs: number;
  ffmpegPath?: string;
  /** Each stderr line of ffmpeg (the driver logs them at debug). */
  onStderr?: (line: string) => void;
}

export class FfmpegFrameSource {
  private child?: ChildProcessByStdio<null, Readable, Readable>;
  private latestFrame?: Frame;
  private readonly listeners = new Set<FrameListener>();
  private readonly stderrTail: string[] = [];
  private stallTimer?: NodeJS.Timeout;
  private endListener?: (err: Error) => void;
  private ended = false;
  private startWaiter?: { resolve: (f: Frame) => void; reject: (err: Error) => void };

  constructor(private readonly opts: FrameSourceOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  latest(): Frame | undefined {
    return this.latestFrame;
  }

  onFrame(listener: FrameListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called once when the source ends for any reason other than stop(). */
  onEnd(listener: (err: Error) => void): void {
    this.endListener = listener;
  }

  /** Spawns ffmpeg; resolves with the first frame, rejects when ffmpeg ends or stalls before one. */
  start(): Promise<Frame> {
    const binary = this.opts.ffmpegPath ?? 'ffmpeg';
    const child = spawn(binary, this.opts.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const splitter = new JpegFrameSplitter((jpeg) => this.deliver(jpeg));
    child.stdout.on('data', (chunk: Buffer) => splitter.push(chunk));
    let partial = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.noteStderr(line);
    });
    child.on('error', (err: NodeJS.ErrnoException) =>
      this.end(err.code === 'ENOENT' ? new FfmpegMissingError(binary) : err),
    );
    child.on('exit', (code, signal) => {
      if (partial) this.noteStderr(partial);
      this.end(new Error(`ffmpeg ${signal ? `killed by ${signal}` : `exited with ${code}`}${this.said()}`));
    });
    this.armStallTimer();
    return new Promise<Frame>((resolve, reject) => {
      this.startWaiter = { resolve, reject };
    });
  }

  /** Ends ffmpeg without reporting it as a failure. */
  stop(): Promise<void> {
    this.ended = true;
    this.startWaiter?.reject(new Error('stopped'));
    this.startWaiter = undefined;
    clearTimeout(this.stallTimer);
    this.listeners.clear();
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), 2000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }

  private deliver(jpeg: Buffer): void {
    if (this.ended) return;
    const frame: Frame = { jpeg, seq: ++lastSeq, at: performance.now() };
    this.latestFrame = frame;
    this.armStallTimer();
    this.startWaiter?.resolve(frame);
    this.startWaiter = undefined;
    for (const listener of this.listeners) listener(frame);
  }

  private armStallTimer(): void {
    clearTimeout(this.stallTimer);
    this.stallTimer = setTimeout(() => {
      this.end(new Error(`no frame for ${this.opts.stallMs / 1000} s${this.said()}`));
      this.child?.kill('SIGKILL');
    }, this.opts.stallMs);
  }

  private noteStderr(line: string): void {
    if (line.trim() === '') return;
    this.opts.onStderr?.(line);
    this.stderrTail.push(line.trim());
    if (this.stderrTail.length > STDERR_KEEP_LINES) this.stderrTail.shift();
  }

  /** The last thing ffmpeg said, for the device's reason. */
  private said(): string {
    const last = this.stderrTail.slice(-2).join(' / ');
    return last ? `: ${last.slice(0, 300)}` : '';
  }

  private end(err: Error): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.stallTimer);
    if (this.startWaiter) {
      this.startWaiter.reject(err);
      this.startWaiter = undefined;
      return;
    }
    this.endListener?.(err);
  }
}
