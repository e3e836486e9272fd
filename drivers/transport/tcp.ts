// Raw TCP (e.g. port 9100 on a network printer or a serial-to-Ethernet adapter).
import { connect, type Socket } from 'node:net';
import { DeviceAbsentError } from '../device.js';
import { LinkListeners, type ByteLink } from './byte-link.js';

export interface TcpOptions {
  host: string;
  port: number;
  connectTimeoutMs: number;
}

export function openTcp(opts: TcpOptions): Promise<ByteLink> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: opts.host, port: opts.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new DeviceAbsentError(`no answer from ${opts.host}:${opts.port} within ${opts.connectTimeoutMs} ms`),
      );
    }, opts.connectTimeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.setNoDelay(true);
      resolve(new TcpLink(socket));
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const absent = err.code === 'ECONNREFUSED' || err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH';
      reject(absent ? new DeviceAbsentError(`${opts.host}:${opts.port}: ${err.code}`) : err);
    });
  });
}

class TcpLink implements ByteLink {
  private readonly listeners = new LinkListeners();
  private closing = false;
  private lastError: Error | undefined;

  constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.listeners.emitData(chunk));
    socket.on('error', (err) => (this.lastError = err));
    socket.on('close', () =>
      this.listeners.emitClose(
        this.closing ? undefined : (this.lastError ?? new Error('connection closed by the device')),
      ),
    );
  }

  get isOpen(): boolean {
    return !this.socket.destroyed;
  }

  write(data: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.write(data, (err) => (err ? reject(err) : resolve()));
    });
  }

  onData(listener: (chunk: Buffer) => void): () => void {
    return this.listeners.onData(listener);
  }

  onClose(listener: (err?: Error) => void): () => void {
    return this.listeners.onClose(listener);
  }

  close(): Promise<void> {
    if (this.socket.destroyed) return Promise.resolve();
    this.closing = true;
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 1000).unref();
    });
  }
}
