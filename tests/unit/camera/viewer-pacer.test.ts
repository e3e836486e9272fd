// One MJPEG viewer's pacing, with a stand-in socket (a unit test: the real stream is exercised end to end
// in tests/e2e/camera.test.ts; here the socket's backpressure is set by hand, which a real client cannot
// do deterministically).
import { describe, expect, it } from 'vitest';
import { framePart, viewerPacer, type ViewerSink } from '../../../agent/http/camera-stream.js';
import type { Frame } from '../../../drivers/camera/camera.js';

class SlowSocket implements ViewerSink {
  writableNeedDrain = false;
  destroyed = false;
  readonly parts: Buffer[] = [];
  write(chunk: Buffer): boolean {
    this.parts.push(chunk);
    return true;
  }
}

const frame = (seq: number, at: number): Frame => ({
  jpeg: Buffer.from([0xff, 0xd8, seq, 0xff, 0xd9]),
  seq,
  at,
});

describe('viewerPacer', () => {
  it('sends previewFps frames a second from a faster capture', () => {
    const sock = new SlowSocket();
    const send = viewerPacer(sock, 5);
    // A 30 fps capture for three seconds: 15 parts at 5 fps (give or take the one at the edge).
    for (let i = 0; i < 90; i++) send(frame(i, i * (1000 / 30)));
    expect(sock.parts.length).toBeGreaterThanOrEqual(15);
    expect(sock.parts.length).toBeLessThanOrEqual(16);
  });

  it('passes every frame of a capture at the preview rate, jitter and all', () => {
    const sock = new SlowSocket();
    const send = viewerPacer(sock, 15);
    for (let i = 0; i < 45; i++) send(frame(i, i * (1000 / 15) + (i % 2 ? 8 : -8)));
    expect(sock.parts.length).toBe(45);
  });

  it('skips frames while the socket has not drained, then sends the newest, never the backlog', () => {
    const sock = new SlowSocket();
    const send = viewerPacer(sock, 15);
    send(frame(1, 0));
    sock.writableNeedDrain = true;
    for (let i = 2; i <= 20; i++) send(frame(i, (i - 1) * 67));
    expect(sock.parts.length).toBe(1);
    sock.writableNeedDrain = false;
    send(frame(21, 20 * 67));
    expect(sock.parts).toEqual([framePart(frame(1, 0).jpeg), framePart(frame(21, 0).jpeg)]);
  });

  it('frames each part with its boundary, type and length', () => {
    const part = framePart(Buffer.from([0xff, 0xd8, 0xff, 0xd9])).toString('latin1');
    expect(part).toBe(
      '--boxagent-frame\r\nContent-Type: image/jpeg\r\nContent-Length: 4\r\n\r\n\xff\xd8\xff\xd9\r\n',
    );
  });
});
