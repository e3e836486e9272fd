// HID devices move fixed-size reports, not a byte stream. Seal machines on HID carry their serial-style
// frames inside reports: report ID, a count of the bytes used, the bytes, zero padding to the report length
// (the convention of the common HID-to-UART bridges). `hidByteLink` turns a report port into a ByteLink so
// the same codec and driver run on it.
//
// Report ports: a real device through node-hid (`openHid` in hid.ts), and the in-process stand-in
// `memoryHidPair`, used by the seal simulator and its tests.
import { LinkListeners, type ByteLink } from './byte-link.js';

export interface HidReportFormat {
  reportId: number;
  /** Bytes per report, report ID included. */
  reportLength: number;
}

export interface HidReportPort {
  writeReport(report: Buffer): Promise<void>;
  onReport(listener: (report: Buffer) => void): () => void;
  onClose(listener: (err?: Error) => void): () => void;
  close(): Promise<void>;
  readonly isOpen: boolean;
}

/** Bytes of the stream one report carries. */
export function reportCapacity(format: HidReportFormat): number {
  return format.reportLength - 2;
}

export function hidByteLink(port: HidReportPort, format: HidReportFormat): ByteLink {
  const capacity = reportCapacity(format);
  if (capacity < 1) throw new RangeError(`a ${format.reportLength}-byte report carries no data`);
  const listeners = new LinkListeners();
  port.onReport((report) => {
    // Reports of other IDs (e.g. a vendor's feature reports) are not part of the stream.
    if (report[0] !== format.reportId) return;
    const count = Math.min(report[1] ?? 0, capacity, report.length - 2);
    if (count > 0) listeners.emitData(Buffer.from(report.subarray(2, 2 + count)));
  });
  port.onClose((err) => listeners.emitClose(err));
  return {
    get isOpen() {
      return port.isOpen;
    },
    async write(data: Buffer) {
      for (let at = 0; at < data.length; at += capacity) {
        const chunk = data.subarray(at, at + capacity);
        const report = Buffer.alloc(format.reportLength);
        report[0] = format.reportId;
        report[1] = chunk.length;
        chunk.copy(report, 2);
        await port.writeReport(report);
      }
    },
    onData: (l) => listeners.onData(l),
    onClose: (l) => listeners.onClose(l),
    close: () => port.close(),
  };
}

class MemoryHidPort implements HidReportPort {
  peer!: MemoryHidPort;
  private open = true;
  private readonly reports = new Set<(report: Buffer) => void>();
  private readonly closes = new Set<(err?: Error) => void>();

  constructor(private readonly reportLength: number) {}

  get isOpen(): boolean {
    return this.open;
  }

  writeReport(report: Buffer): Promise<void> {
    if (!this.open) return Promise.reject(new Error('HID device closed'));
    if (report.length !== this.reportLength) {
      return Promise.reject(new RangeError(`a report is ${this.reportLength} bytes, not ${report.length}`));
    }
    const copy = Buffer.from(report);
    setImmediate(() => {
      if (this.peer.open) for (const l of this.peer.reports) l(copy);
    });
    return Promise.resolve();
  }

  onReport(listener: (report: Buffer) => void): () => void {
    this.reports.add(listener);
    return () => this.reports.delete(listener);
  }

  onClose(listener: (err?: Error) => void): () => void {
    this.closes.add(listener);
    return () => this.closes.delete(listener);
  }

  close(): Promise<void> {
    if (!this.open) return Promise.resolve();
    this.open = false;
    for (const l of this.closes) l();
    if (this.peer.open) {
      this.peer.open = false;
      for (const l of this.peer.closes) l(new Error('HID device removed'));
    }
    return Promise.resolve();
  }
}

/** The in-process HID stand-in: host end and device end, exchanging reports of a fixed length. */
export function memoryHidPair(reportLength: number): [HidReportPort, HidReportPort] {
  const host = new MemoryHidPort(reportLength);
  const device = new MemoryHidPort(reportLength);
  host.peer = device;
  device.peer = host;
  return [host, device];
}
