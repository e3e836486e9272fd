// Downloads a release over HTTP(S) into `<file>.part`, resuming with a Range request after a cut connection
// (and across restarts: the .part file stays), never past the announced size. The caller checks the hash.
import { createHash } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  existsSync,
  openSync,
  statSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface DownloadOptions {
  url: string;
  /** The .part file bytes are appended to. */
  part: string;
  /** The exact size the release has (the signed `size`). */
  size: number;
  onProgress?(bytes: number, total: number): void;
  /** Consecutive attempts that bring no new byte before giving up (default 5). */
  maxStalledAttempts?: number;
  /** No byte for this long ends an attempt (default 30 s). */
  idleTimeoutMs?: number;
  /** Delay before attempt n (default 1 s doubling, at most 30 s). */
  retryDelayMs?(attempt: number): number;
  signal?: AbortSignal;
}

/** Why a download stopped: a stable code for the `update.job` event, and the cause in words. */
export class DownloadError extends Error {
  override name = 'DownloadError';
  constructor(
    readonly reasonCode: 'download-failed' | 'too-large',
    message: string,
  ) {
    super(message);
  }
}

/** Downloads until the .part file holds `size` bytes. Resolves with the number of attempts it took. */
export async function downloadRelease(o: DownloadOptions): Promise<{ attempts: number; resumed: boolean }> {
  const maxStalled = o.maxStalledAttempts ?? 5;
  const delay = (n: number): number => o.retryDelayMs?.(n) ?? Math.min(30_000, 1000 * 2 ** (n - 1));
  let have = existsSync(o.part) ? statSync(o.part).size : 0;
  if (have > o.size) {
    truncateSync(o.part, 0);
    have = 0;
  }
  const resumed = have > 0;
  let attempts = 0;
  let stalled = 0;
  let lastError = '';
  while (have < o.size) {
    if (o.signal?.aborted) throw new DownloadError('download-failed', 'canceled');
    if (stalled >= maxStalled)
      throw new DownloadError('download-failed', `${lastError} (after ${attempts} attempts)`);
    if (attempts > 0) await sleep(delay(stalled));
    attempts += 1;
    const before = have;
    try {
      have = await attempt(o, have);
    } catch (err) {
      if (err instanceof DownloadError && err.reasonCode === 'too-large') throw err;
      lastError = err instanceof Error ? err.message : String(err);
      have = existsSync(o.part) ? statSync(o.part).size : 0;
    }
    stalled = have > before ? 0 : stalled + 1;
  }
  return { attempts, resumed };
}

/** One request: appends what it receives and returns the .part size afterwards. */
function attempt(o: DownloadOptions, have: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let url: URL;
    try {
      url = new URL(o.url);
    } catch {
      reject(new DownloadError('download-failed', `not a URL: ${o.url}`));
      return;
    }
    const request =
      url.protocol === 'https:' ? httpsRequest : url.protocol === 'http:' ? httpRequest : undefined;
    if (!request) {
      reject(
        new DownloadError('download-failed', `only http and https URLs are downloaded (${url.protocol})`),
      );
      return;
    }
    const headers: Record<string, string> = { 'user-agent': 'boxagent-update' };
    if (have > 0) headers.range = `bytes=${have}-`;
    const req = request(url, { headers, signal: o.signal }, (res) => {
      void receive(o, have, res).then(resolve, reject);
    });
    req.setTimeout(o.idleTimeoutMs ?? 30_000, () => req.destroy(new Error('no data for too long')));
    req.on('error', reject);
    req.end();
  });
}

async function receive(o: DownloadOptions, have: number, res: IncomingMessage): Promise<number> {
  let offset: number;
  if (res.statusCode === 206 && have > 0) {
    const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(res.headers['content-range'] ?? '');
    if (!m || Number(m[1]) !== have) {
      res.resume();
      truncateSync(o.part, 0); // a range we did not ask for: start over rather than splice wrong bytes
      throw new Error(`the server answered a different range (${res.headers['content-range'] ?? 'none'})`);
    }
    offset = have;
  } else if (res.statusCode === 200) {
    offset = 0; // no resume from this server: the whole file again
  } else if (res.statusCode === 416 && have === o.size) {
    res.resume();
    return have;
  } else {
    res.resume();
    if (res.statusCode === 416) truncateSync(o.part, 0);
    throw new Error(`HTTP ${res.statusCode ?? '?'} from ${o.url}`);
  }
  const length = Number(res.headers['content-length']);
  if (Number.isFinite(length) && offset + length > o.size) {
    res.resume();
    throw new DownloadError(
      'too-large',
      `the server sends ${offset + length} bytes; the release has ${o.size}`,
    );
  }
  const fd = openSync(o.part, offset === 0 ? 'w' : 'a', 0o640);
  let bytes = offset;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      if (bytes + chunk.length > o.size) {
        throw new DownloadError('too-large', `the server sent more than the release's ${o.size} bytes`);
      }
      for (let w = 0; w < chunk.length;) w += writeSync(fd, chunk, w);
      bytes += chunk.length;
      o.onProgress?.(bytes, o.size);
    }
  } finally {
    closeSync(fd);
  }
  if (!res.complete) throw new Error(`the connection closed after ${bytes} of ${o.size} bytes`);
  return bytes;
}

/** sha256 (hex) of a file, read as a stream. */
export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (c) => hash.update(c))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
