// The release download against a real HTTP server on loopback: a cut connection resumed with Range, a server
// that ignores Range (200) restarting from zero, and a server sending more than the signed size stopped.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FLEET_CONFIG_FILE } from '../../../agent/fleet/config-sync.js';
import { FLEET_CONFIG_FILE_NAME } from '../../../agent/backup/state-backup.js';
import { downloadRelease, DownloadError, sha256File } from '../../../agent/update/download.js';
import { removeDir, tempDir } from '../../helpers/daemon.js';

const work = tempDir('boxagent-download-');
afterAll(() => removeDir(work));
const body = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 256));
let server: Server | undefined;
afterEach(async () => {
  const s = server;
  server = undefined;
  if (!s) return;
  s.closeAllConnections();
  await new Promise((r) => s.close(r));
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const s = (server = createServer(handler));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const addr = s.address();
  return `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/r.tar.gz`;
}

const fast = { retryDelayMs: () => 10 };
let n = 0;
const part = (): string => join(work, `p${++n}.part`);

describe('release download', () => {
  it('resumes a cut download from where it stopped and ends with the exact bytes', async () => {
    const ranges: (string | undefined)[] = [];
    const url = await serve((req, res) => {
      ranges.push(req.headers.range);
      const from = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
      res.writeHead(from ? 206 : 200, {
        'content-length': body.length - from,
        ...(from ? { 'content-range': `bytes ${from}-${body.length - 1}/${body.length}` } : {}),
      });
      if (ranges.length === 1) res.write(body.subarray(0, 100_000), () => res.socket?.destroy());
      else res.end(body.subarray(from));
    });
    const file = part();
    const seen: number[] = [];
    const r = await downloadRelease({
      url,
      part: file,
      size: body.length,
      onProgress: (b) => seen.push(b),
      ...fast,
    });
    expect(r.attempts).toBe(2);
    expect(ranges[0]).toBeUndefined();
    expect(ranges[1]).toMatch(/^bytes=\d+-$/);
    expect(await sha256File(file)).toBe(createHash('sha256').update(body).digest('hex'));
    expect(seen.at(-1)).toBe(body.length);
  });

  it('starts over when the server ignores the Range request', async () => {
    const file = part();
    writeFileSync(file, body.subarray(0, 1000));
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': body.length });
      res.end(body);
    });
    const r = await downloadRelease({ url, part: file, size: body.length, ...fast });
    expect(r.resumed).toBe(true);
    expect(readFileSync(file).equals(body)).toBe(true);
  });

  it('stops a server that sends more than the signed size', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200); // no length: chunked, endless as far as the box knows
      res.write(body);
      res.end(body);
    });
    const err = await downloadRelease({ url, part: part(), size: body.length, ...fast }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as DownloadError).reasonCode).toBe('too-large');
  });

  it('gives up after attempts that bring nothing, naming the last error', async () => {
    const url = await serve((_req, res) => res.writeHead(404).end());
    await expect(
      downloadRelease({ url, part: part(), size: 10, maxStalledAttempts: 3, ...fast }),
    ).rejects.toThrow(/HTTP 404 .*after 3 attempts/);
  });

  it('backs up the applied fleet config under the name config-sync writes it to', () => {
    expect(FLEET_CONFIG_FILE_NAME).toBe(FLEET_CONFIG_FILE);
  });
});
