// A stand-in for the browser's EventSource in Node 20 (which has none), for driving the served client's
// events.subscribe from a test; the real browser's is exercised by tests/browser/. It follows the parts of the
// HTML spec the client relies on: named events, the last event ID kept across frames and sent back as
// Last-Event-ID on a reconnect, `retry:`, and giving up (readyState CLOSED) on a non-200 answer. `drop()` and
// `resume()` cut and restore the connection like a network blip, which a test cannot cause otherwise.
interface MessageLike {
  data: string;
  lastEventId: string;
}

export class NodeEventSource {
  static readonly instances: NodeEventSource[] = [];
  readyState = 0;
  onerror: ((ev: unknown) => void) | null = null;
  private readonly listeners = new Map<string, ((m: MessageLike) => void)[]>();
  private lastEventId = '';
  private retryMs = 500;
  private controller = new AbortController();
  private paused = false;

  constructor(readonly url: string) {
    NodeEventSource.instances.push(this);
    void this.connect();
  }

  addEventListener(type: string, listener: (m: MessageLike) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  close(): void {
    this.readyState = 2;
    this.controller.abort();
  }

  /** Cuts the connection; nothing reconnects until `resume()`. */
  drop(): void {
    this.paused = true;
    this.controller.abort();
  }

  resume(): void {
    this.paused = false;
    void this.connect();
  }

  private async connect(): Promise<void> {
    if (this.readyState === 2 || this.paused) return;
    this.controller = new AbortController();
    this.readyState = 0;
    try {
      const res = await fetch(this.url, {
        headers: {
          accept: 'text/event-stream',
          ...(this.lastEventId ? { 'last-event-id': this.lastEventId } : {}),
        },
        signal: this.controller.signal,
      });
      if (res.status !== 200 || !res.body) {
        this.readyState = 2;
        this.onerror?.({ status: res.status });
        return;
      }
      this.readyState = 1;
      let buffer = '';
      for await (const chunk of res.body.pipeThrough(new TextDecoderStream())) {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          this.frame(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch {
      // Aborted or cut: reconnect below, as the browser does.
    }
    if (this.readyState === 2) return;
    this.readyState = 0;
    this.onerror?.({ reconnecting: true });
    if (!this.paused) setTimeout(() => void this.connect(), this.retryMs);
  }

  private frame(block: string): void {
    let type = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      const i = line.indexOf(':');
      if (i === 0) continue;
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'id') this.lastEventId = value;
      else if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
      else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
    }
    if (data.length === 0) return;
    for (const l of this.listeners.get(type) ?? [])
      l({ data: data.join('\n'), lastEventId: this.lastEventId });
  }
}
