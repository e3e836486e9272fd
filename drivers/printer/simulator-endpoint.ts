// The printer simulator on a real transport: the far end of a socat pty pair (serial) or a TCP port (9100
// style). It reads at the printer's pace and, out of paper, stops reading: the sender then sees its writes
// stall, as with a real printer holding the line with flow control.
import { createReadStream } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { SerialPort } from 'serialport';
import type { DecodedPage } from './decoder.js';
import type { PrinterSetup } from './forms.js';
import { mmToDots } from './units.js';
import { VirtualPrinter } from './virtual-printer.js';

export interface EndpointOptions {
  setup: PrinterSetup;
  bytesPerSecond?: number;
  outputDir?: string;
  /** See VirtualPrinterOptions: how many decoded pages to keep, and a callback for every page. */
  keepPages?: number;
  onPage?: (page: DecodedPage) => void;
}

/** A readable byte source that can be paused: a net.Socket or a SerialPort. */
interface Pausable {
  pause(): unknown;
  resume(): unknown;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
}

export class PrinterSimulatorEndpoint {
  readonly printer: VirtualPrinter;
  private paperOut = false;
  private readonly sources = new Set<Pausable>();
  private readonly closers: (() => Promise<void>)[] = [];

  private constructor(private readonly opts: EndpointOptions) {
    this.printer = new VirtualPrinter({
      setup: opts.setup,
      widthDots: mmToDots(241),
      ...(opts.outputDir ? { outputDir: opts.outputDir } : {}),
      ...(opts.keepPages ? { keepPages: opts.keepPages } : {}),
      ...(opts.onPage ? { onPage: opts.onPage } : {}),
    });
  }

  /** Listens on 127.0.0.1:`port` (0: any free port; see `port`). */
  static async tcp(
    port: number,
    opts: EndpointOptions,
  ): Promise<PrinterSimulatorEndpoint & { port: number }> {
    const ep = new PrinterSimulatorEndpoint(opts);
    const sockets = new Set<Socket>();
    const server: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      ep.attach(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    ep.closers.push(
      () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          server.close(() => resolve());
        }),
    );
    const address = server.address();
    return Object.assign(ep, { port: typeof address === 'object' && address ? address.port : port });
  }

  /** Opens the simulator's end of a serial line (a pty from socat). */
  static async serial(path: string, opts: EndpointOptions): Promise<PrinterSimulatorEndpoint> {
    const ep = new PrinterSimulatorEndpoint(opts);
    // A small read buffer, as for the FIFO below: paused (out of paper), the stream would otherwise go on
    // reading up to its default 64 KiB, and a whole page could vanish into it without the sender stalling.
    const port = new SerialPort({ path, baudRate: 9600, autoOpen: false, highWaterMark: 4096 });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    port.on('error', () => undefined);
    ep.attach(port);
    ep.closers.push(
      () => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())),
    );
    return ep;
  }

  /** Reads a FIFO standing in for a /dev/usb/lpN node (the driver writes to it, the simulator reads). */
  static file(path: string, opts: EndpointOptions): PrinterSimulatorEndpoint {
    const ep = new PrinterSimulatorEndpoint(opts);
    const stream = createReadStream(path, { highWaterMark: 4096 });
    stream.on('error', () => undefined);
    ep.attach(stream);
    ep.closers.push(
      () =>
        new Promise<void>((resolve) => {
          if (stream.closed) return resolve();
          stream.once('close', () => resolve());
          stream.destroy();
        }),
    );
    return ep;
  }

  /** Out of paper: stop reading (the sender stalls); paper loaded: read on. */
  setPaperOut(out: boolean): void {
    this.paperOut = out;
    for (const s of this.sources)
      if (out) s.pause();
      else s.resume();
  }

  async close(): Promise<void> {
    for (const c of this.closers.splice(0)) await c();
    await this.printer.flushed();
  }

  private attach(source: Pausable): void {
    this.sources.add(source);
    source.on('data', (chunk: Buffer) => {
      this.printer.accept(chunk);
      const bps = this.opts.bytesPerSecond;
      if (!bps && !this.paperOut) return;
      // Taking data at the printer's pace: stop reading for as long as printing this chunk takes.
      source.pause();
      const delay = bps ? (chunk.length / bps) * 1000 : 0;
      setTimeout(() => {
        if (!this.paperOut) source.resume();
      }, delay);
    });
    if (this.paperOut) source.pause();
  }
}
