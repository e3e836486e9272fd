// The connection cap on a real Node HTTP server and real sockets: at the cap, a new connection makes an idle
// one leave (one that never sent a complete request first), and is refused only when every one is busy.
import { createServer, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { guardConnections } from '../../../agent/http/connection-guard.js';
import { rawRequest } from '../../helpers/raw-http.js';
import { waitFor } from '../../helpers/wait-for.js';

const MAX = 4;
let server: Server;
const sockets: Socket[] = [];
/** Responses the server holds open (a stream), ended by the test. */
const held: ServerResponse[] = [];

async function start(): Promise<number> {
  server = createServer((req, res) => {
    if (req.url === '/hold') {
      res.writeHead(200);
      res.write('open\n');
      held.push(res);
    } else {
      res.end('ok');
    }
  });
  server.keepAliveTimeout = 60_000; // keep-alive sockets stay until the guard (or the test) ends them
  guardConnections(server, MAX, pino({ level: 'silent' }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

interface Client {
  socket: Socket;
  data: string;
  closed: boolean;
}

async function open(port: number, head = ''): Promise<Client> {
  const c: Client = { socket: connect(port, '127.0.0.1'), data: '', closed: false };
  sockets.push(c.socket);
  c.socket.on('data', (b: Buffer) => (c.data += b.toString()));
  c.socket.on('close', () => (c.closed = true));
  c.socket.on('error', () => (c.closed = true));
  await new Promise((r) => c.socket.once('connect', r));
  if (head) c.socket.write(head);
  return c;
}

/** Waits until the server has taken `n` connections, so the order the guard sees is the test's order. */
async function taken(n: number): Promise<void> {
  await waitFor(`${n} connections taken`, async () => {
    const count = await new Promise<number>((r) => server.getConnections((_e, k) => r(k)));
    return count >= n;
  });
}

afterEach(async () => {
  for (const res of held.splice(0)) res.end();
  for (const s of sockets.splice(0)) s.destroy();
  await new Promise((r) => server.close(r));
});

describe('guardConnections', () => {
  it('makes the oldest silent socket leave for a new caller, before any keep-alive socket', async () => {
    const port = await start();
    // One keep-alive socket that has been served, then three that never send a complete request.
    const served = await open(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor('the first answer', () => served.data.includes('ok'));
    const silent = [await open(port), await open(port, 'GET / HTTP/1.1\r\nHo'), await open(port)];
    await taken(MAX);

    const res = await rawRequest(`http://127.0.0.1:${port}/`);
    expect(res.body).toBe('ok');
    await waitFor('an idle socket to leave', () => silent[0]!.closed);
    expect(silent.slice(1).some((c) => c.closed)).toBe(false);
    expect(served.closed).toBe(false);
  });

  it('makes a keep-alive socket leave when no silent one is left, never one with a request in progress', async () => {
    const port = await start();
    const streams = [await open(port, 'GET /hold HTTP/1.1\r\nHost: x\r\n\r\n')];
    streams.push(await open(port, 'GET /hold HTTP/1.1\r\nHost: x\r\n\r\n'));
    streams.push(await open(port, 'GET /hold HTTP/1.1\r\nHost: x\r\n\r\n'));
    const served = await open(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor('all answered', () => [...streams, served].every((c) => c.data.includes('200')));

    expect((await rawRequest(`http://127.0.0.1:${port}/`)).body).toBe('ok');
    await waitFor('the keep-alive socket to leave', () => served.closed);
    expect(streams.some((c) => c.closed)).toBe(false);
  });

  it('refuses a new connection when every one has a request in progress', async () => {
    const port = await start();
    const streams: Client[] = [];
    for (let i = 0; i < MAX; i++) streams.push(await open(port, 'GET /hold HTTP/1.1\r\nHost: x\r\n\r\n'));
    await waitFor('all streams open', () => streams.every((c) => c.data.includes('open')));

    await expect(rawRequest(`http://127.0.0.1:${port}/`)).rejects.toThrow();
    expect(streams.some((c) => c.closed)).toBe(false);
    // A stream that ends frees its place.
    held[0]!.end();
    await waitFor('the freed place to be taken', async () =>
      rawRequest(`http://127.0.0.1:${port}/`).then(
        (r) => r.body === 'ok',
        () => false,
      ),
    );
  });
});
