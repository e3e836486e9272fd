// The per-token share of open streams, on a real Node HTTP server: streams past the share are refused with
// 429 and a Retry-After, other tokens are not affected, and a stream that closes gives its place back.
import { createServer, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { StreamQuota } from '../../../agent/http/stream-quota.js';
import { Problem } from '../../../agent/problems/problem.js';
import { waitFor } from '../../helpers/wait-for.js';

let server: Server;
const sockets: Socket[] = [];

async function start(quota: StreamQuota): Promise<number> {
  server = createServer((req, res: ServerResponse) => {
    const token = req.headers['x-token'] as string;
    try {
      quota.take(token, res);
      res.writeHead(200);
      res.write('open\n');
    } catch (err) {
      const p = err as Problem;
      res.writeHead(429, { 'retry-after': String(p.extensions.retryAfter) }).end(p.code);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

interface Stream {
  socket: Socket;
  data: string;
}

function stream(port: number, token: string): Stream {
  const s: Stream = { socket: connect(port, '127.0.0.1'), data: '' };
  sockets.push(s.socket);
  s.socket.on('data', (b: Buffer) => (s.data += b.toString()));
  s.socket.write(`GET / HTTP/1.1\r\nHost: x\r\nX-Token: ${token}\r\n\r\n`);
  return s;
}

const answered = (s: Stream): boolean => /^HTTP\/1\.1 \d{3}/.test(s.data);

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await new Promise((r) => server.close(r));
});

describe('StreamQuota', () => {
  it('refuses streams past the share of one token, not those of another, and frees closed places', async () => {
    const port = await start(new StreamQuota(2));
    const a = [stream(port, 'a'), stream(port, 'a')];
    await waitFor('two streams open', () => a.every(answered));
    expect(a.every((s) => s.data.startsWith('HTTP/1.1 200'))).toBe(true);

    const third = stream(port, 'a');
    const other = stream(port, 'b');
    await waitFor('both answered', () => answered(third) && answered(other));
    expect(third.data).toMatch(/^HTTP\/1\.1 429/);
    expect(third.data).toMatch(/retry-after: [1-9]\d*/i);
    expect(third.data).toContain('rate-limited');
    expect(other.data).toMatch(/^HTTP\/1\.1 200/);

    a[0]!.socket.destroy();
    // The place comes back once the server has seen the stream close.
    await waitFor('a freed place', async () => {
      const next = stream(port, 'a');
      await waitFor('an answer', () => answered(next));
      return next.data.startsWith('HTTP/1.1 200');
    });
  });
});
