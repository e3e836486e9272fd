// A byte pipe to a device, whatever carries it (serial, TCP, USB, a file). Codecs and drivers talk to this.
export interface ByteLink {
  /** Resolves once the bytes are handed to the OS (drained), so a caller can pace large writes. */
  write(data: Buffer): Promise<void>;
  /** Subscribes to incoming bytes; returns the unsubscribe function. */
  onData(listener: (chunk: Buffer) => void): () => void;
  /** Called once when the link closes, with the error if it was lost rather than closed by us. */
  onClose(listener: (err?: Error) => void): () => void;
  close(): Promise<void>;
  readonly isOpen: boolean;
}

/** Collects the listeners of a link and calls them; saves each transport from repeating the bookkeeping. */
export class LinkListeners {
  private readonly data = new Set<(chunk: Buffer) => void>();
  private readonly close = new Set<(err?: Error) => void>();

  onData(listener: (chunk: Buffer) => void): () => void {
    this.data.add(listener);
    return () => this.data.delete(listener);
  }

  onClose(listener: (err?: Error) => void): () => void {
    this.close.add(listener);
    return () => this.close.delete(listener);
  }

  emitData(chunk: Buffer): void {
    for (const l of this.data) l(chunk);
  }

  emitClose(err?: Error): void {
    for (const l of this.close) l(err);
    this.close.clear();
    this.data.clear();
  }
}
