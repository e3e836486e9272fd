// Two ByteLinks joined back to back in memory: a driver on one end, an in-process simulator on the other, so
// `transport: {type: simulated}` runs the real driver and protocol code without a serial port.
import { LinkListeners, type ByteLink } from './byte-link.js';

class MemoryLink implements ByteLink {
  readonly listeners = new LinkListeners();
  peer!: MemoryLink;
  private open = true;

  get isOpen(): boolean {
    return this.open;
  }

  write(data: Buffer): Promise<void> {
    if (!this.open) return Promise.reject(new Error('link closed'));
    const copy = Buffer.from(data);
    // Delivered on a later turn, as a real port would: a reply never arrives inside the write call.
    setImmediate(() => {
      if (this.peer.open) this.peer.listeners.emitData(copy);
    });
    return Promise.resolve();
  }

  onData(listener: (chunk: Buffer) => void): () => void {
    return this.listeners.onData(listener);
  }

  onClose(listener: (err?: Error) => void): () => void {
    return this.listeners.onClose(listener);
  }

  /** Closing one end closes the other, which sees it as a lost link. */
  close(): Promise<void> {
    if (!this.open) return Promise.resolve();
    this.open = false;
    this.listeners.emitClose();
    if (this.peer.open) {
      this.peer.open = false;
      this.peer.listeners.emitClose(new Error('the other end closed'));
    }
    return Promise.resolve();
  }
}

export function memoryLinkPair(): [ByteLink, ByteLink] {
  const a = new MemoryLink();
  const b = new MemoryLink();
  a.peer = b;
  b.peer = a;
  return [a, b];
}
