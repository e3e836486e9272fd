// GET /v1/camera/:id/stream: the camera as multipart/x-mixed-replace MJPEG for an <img> tag. Every viewer
// shares the one capture; each gets at most `previewFps` frames a second, and a viewer whose socket has not
// taken the previous frame yet skips frames instead of having them buffered.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CameraService } from '../camera/camera-service.js';
import type { Frame } from '../../drivers/camera/camera.js';

const BOUNDARY = 'boxagent-frame';

export function framePart(jpeg: Buffer): Buffer {
  const head = `--${BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), jpeg, Buffer.from('\r\n', 'latin1')]);
}

/** The open MJPEG streams, so a shutdown can end them, and their count for the metrics. */
export class CameraStreams {
  private readonly open = new Set<FastifyReply['raw']>();

  constructor(private readonly cameras: CameraService) {}

  get viewers(): number {
    return this.open.size;
  }

  handle(request: FastifyRequest, reply: FastifyReply): void {
    const { id } = request.params as { id: string };
    // Before the hijack: an unknown or absent camera answers as a problem (404 / 503).
    const camera = this.cameras.camera(id);
    const res = reply.raw;
    reply.hijack();
    res.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': `multipart/x-mixed-replace; boundary=${BOUNDARY}`,
      'cache-control': 'no-store',
      connection: 'close',
      'x-accel-buffering': 'no',
    });
    this.open.add(res);
    const interval = 1000 / camera.previewFps;
    let lastSent = -Infinity;
    const send = (frame: Frame): void => {
      // A little slack, so a capture at exactly the preview rate is not halved by jitter.
      if (frame.at - lastSent < interval * 0.8) return;
      if (res.writableNeedDrain || res.destroyed) return; // slow viewer: drop, never queue
      lastSent = frame.at;
      res.write(framePart(frame.jpeg));
    };
    const first = camera.driver.latest();
    if (first) send(first);
    const unsubscribe = camera.driver.onFrame(send);
    res.on('close', () => {
      unsubscribe();
      this.open.delete(res);
    });
  }

  closeAll(): void {
    for (const res of this.open) res.end();
  }
}
