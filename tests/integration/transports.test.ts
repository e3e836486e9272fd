// Serial over a real socat pty pair and raw TCP over loopback: bytes both ways, loss of the device seen.
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DeviceAbsentError } from '../../drivers/device.js';
import type { ByteLink } from '../../drivers/transport/byte-link.js';
import { openSerial } from '../../drivers/transport/serial.js';
import { openTcp } from '../../drivers/transport/tcp.js';
import { removeDir, tempDir } from '../helpers/daemon.js';
import { openPtyPair, serialOptions, type PtyPair } from '../helpers/pty-pair.js';
import { waitFor } from '../helpers/wait-for.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function collect(link: ByteLink): () => Buffer {
  const chunks: Buffer[] = [];
  link.onData((c) => chunks.push(c));
  return () => Buffer.concat(chunks);
}

describe('serial transport over a pty pair', () => {
  async function pair(): Promise<PtyPair> {
    const dir = tempDir();
    const p = await openPtyPair(dir);
    cleanups.push(
      () => removeDir(dir),
      () => p.close(),
    );
    return p;
  }

  it('carries bytes both ways, in order, including large writes', async () => {
    const p = await pair();
    const a = await openSerial(serialOptions(p.device));
    const b = await openSerial(serialOptions(p.peer));
    cleanups.push(
      () => a.close(),
      () => b.close(),
    );
    const atB = collect(b);
    const atA = collect(a);
    const big = Buffer.alloc(64 * 1024, 0);
    for (let i = 0; i < big.length; i++) big[i] = i % 251;
    await a.write(big);
    await b.write(Buffer.from([0xaa, 0xaa, 0xaa, 0x96, 0x69]));
    await waitFor('all bytes at the peer', () => atB().length >= big.length);
    expect(atB().equals(big)).toBe(true);
    await waitFor('reply at the device end', () => atA().length >= 5);
    expect([...atA()]).toEqual([0xaa, 0xaa, 0xaa, 0x96, 0x69]);
  });

  it('reports a vanished device (socat killed) as a lost link', async () => {
    const p = await pair();
    const a = await openSerial(serialOptions(p.device));
    cleanups.push(() => a.close());
    let lost: Error | undefined | null = null;
    a.onClose((err) => (lost = err));
    await p.close();
    // A pty whose other side went away reports it on the next I/O; do not wait on that write itself.
    const poke = setInterval(() => void a.write(Buffer.from('x')).catch(() => undefined), 100);
    cleanups.push(() => clearInterval(poke));
    await waitFor('close event', () => lost !== null);
    expect(lost).toBeInstanceOf(Error);
  });

  it('says a missing device node is absent', async () => {
    await expect(openSerial(serialOptions('/dev/does-not-exist-ttyUSB9'))).rejects.toBeInstanceOf(
      DeviceAbsentError,
    );
  });
});

describe('TCP transport', () => {
  it('carries bytes and reports the peer going away', async () => {
    const received: Buffer[] = [];
    const sockets: Socket[] = [];
    const server: Server = createServer((s) => {
      sockets.push(s);
      s.on('data', (c) => received.push(c));
      s.write('OK');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as { port: number }).port;
    const link = await openTcp({ host: '127.0.0.1', port, connectTimeoutMs: 2000 });
    cleanups.push(() => link.close());
    const got = collect(link);
    let lost: Error | undefined | null = null;
    link.onClose((err) => (lost = err));
    await link.write(Buffer.from('\x1b@hello'));
    await waitFor('server got bytes', () => Buffer.concat(received).toString('latin1') === '\x1b@hello');
    await waitFor('greeting', () => got().toString() === 'OK');
    sockets.forEach((s) => s.destroy());
    await waitFor('close seen', () => lost !== null);
    expect(lost).toBeInstanceOf(Error);
  });

  it('says a refused connection is an absent device', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r()));
    await expect(openTcp({ host: '127.0.0.1', port, connectTimeoutMs: 2000 })).rejects.toBeInstanceOf(
      DeviceAbsentError,
    );
  });
});
