// GET /v1/camera/:id/stream: the camera as multipart/x-mixed-replace MJPEG for an <img> tag. Every viewer
// shares the one capture; each gets at most `previewFps` frames a second, and a viewer whose socket has not
// taken the previous frame yet skips frames instead of having them buffered.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CameraService } from '../camera/camera-service.js';
import type { Frame } from '../../drivers/camera/camera.js';
import type { StreamQuota } from './stream-quota.js';

const BOUNDARY = 'boxagent-frame';

export function framePart(jpeg: Buffer): Buffer {
  const head = `--${BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), jpeg, Buffer.from('\r\n', 'latin1')]);
}

/** Where a viewer's parts go: the response socket (or a test's stand-in). */
export interface ViewerSink {
  readonly writableNeedDrain: boolean;
  readonly destroyed: boolean;
  write(chunk: Buffer): boolean;
}

/**
 * One viewer's frame filter: at most `fps` parts a second, and none while the socket has not taken the
 * previous one (a slow viewer skips frames; nothing queues up for it).
 */
export function viewerPacer(sink: ViewerSink, fps: number): (frame: Frame) => void {
  const interval = 1000 / fps;
  // When the next part is due; a frame a little early (jitter) is taken and the schedule kept, so a
  // capture at exactly the preview rate is not halved and a faster one averages out at `fps`.
  let due = -Infinity;
  return (frame) => {
    if (frame.at < due - interval * 0.2) return;
    if (sink.writableNeedDrain || sink.destroyed) return;
    due = frame.at > due + interval ? frame.at + interval : due + interval;
    sink.write(framePart(frame.jpeg));
  };
}

/** The open MJPEG streams, so a shutdown can end them, and their count for the metrics. */
export class CameraStreams {
  private readonly open = new Set<FastifyReply['raw']>();

  constructor(
    private readonly cameras: CameraService,
    private readonly quota: StreamQuota,
  ) {}

  get viewers(): number {
    return this.open.size;
  }

  handle(request: FastifyRequest, reply: FastifyReply): void {
    const { id } = request.params as { id: string };
    const res = reply.raw;
    // Before the hijack, so refusals are problems: over the token's share (429), an unknown or absent camera
    // (404 / 503). The route needs a token (scope face), so the principal is there.
    if (request.principal !== undefined) this.quota.take(request.principal.tokenId, res);
    const camera = this.cameras.camera(id);
    reply.hijack();
    res.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': `multipart/x-mixed-replace; boundary=${BOUNDARY}`,
      'cache-control': 'no-store',
      connection: 'close',
      'x-accel-buffering': 'no',
    });
    this.open.add(res);
    const send = viewerPacer(res, camera.previewFps);
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
