// The ffmpeg command line for each kind of camera source. Every one writes MJPEG (JPEG images back to back)
// on stdout; a V4L2 camera is asked for MJPEG at the configured size and rate so its frames pass through
// without being decoded and encoded again.

export interface CaptureFormat {
  width: number;
  height: number;
  fps: number;
}

export type CameraSource =
  /** A V4L2 node (`/dev/video0`, a /dev/v4l/by-id link). */
  | { kind: 'v4l2'; path: string; inputFormat: 'mjpeg' | 'yuyv422' }
  /** rtsp://, or an http(s) MJPEG stream (`multipart/x-mixed-replace`). */
  | { kind: 'url'; url: string }
  /** Simulator: lavfi `testsrc` (no data files needed). */
  | { kind: 'testsrc' }
  /** Simulator: one image, repeated. */
  | { kind: 'still'; path: string }
  /** Simulator: every *.jpg of a folder in turn, each held for `holdSeconds`. */
  | { kind: 'folder'; path: string; holdSeconds: number };

/** JPEG quality (2 best .. 31 worst) where ffmpeg has to encode. */
const JPEG_QSCALE = '5';

function fitFilter(f: CaptureFormat): string {
  // Any image size in, the configured size out (letterboxed), square pixels.
  return (
    `scale=${f.width}:${f.height}:force_original_aspect_ratio=decrease,` +
    `pad=${f.width}:${f.height}:(ow-iw)/2:(oh-ih)/2,setsar=1`
  );
}

// ffmpeg's image2 takes the decoder from the pattern's extension, so one extension: JPEG, as cameras give.
const IMAGE_GLOB = '*.jpg';

const ENCODE = ['-pix_fmt', 'yuvj420p', '-c:v', 'mjpeg', '-q:v', JPEG_QSCALE];
const OUTPUT = ['-f', 'mjpeg', 'pipe:1'];

export function ffmpegArgs(source: CameraSource, f: CaptureFormat): string[] {
  const head = ['-hide_banner', '-nostdin', '-loglevel', 'error'];
  switch (source.kind) {
    case 'v4l2':
      if (source.inputFormat === 'mjpeg') {
        return [
          ...head,
          ...['-f', 'v4l2', '-input_format', 'mjpeg'],
          ...['-video_size', `${f.width}x${f.height}`, '-framerate', String(f.fps)],
          ...['-i', source.path],
          // Passed through; mjpeg2jpeg adds the Huffman tables UVC cameras leave out.
          ...['-c:v', 'copy', '-bsf:v', 'mjpeg2jpeg'],
          ...OUTPUT,
        ];
      }
      return [
        ...head,
        ...['-f', 'v4l2', '-input_format', source.inputFormat],
        ...['-video_size', `${f.width}x${f.height}`, '-framerate', String(f.fps)],
        ...['-i', source.path],
        ...ENCODE,
        ...OUTPUT,
      ];
    case 'url':
      return [
        ...head,
        ...(source.url.startsWith('rtsp') ? ['-rtsp_transport', 'tcp'] : []),
        ...['-i', source.url],
        ...['-an', '-vf', `fps=${f.fps},${fitFilter(f)}`],
        ...ENCODE,
        ...OUTPUT,
      ];
    case 'testsrc':
      return [
        ...head,
        '-re',
        ...['-f', 'lavfi', '-i', `testsrc=size=${f.width}x${f.height}:rate=${f.fps}`],
        ...ENCODE,
        ...OUTPUT,
      ];
    case 'still':
      return [
        ...head,
        ...['-re', '-loop', '1', '-framerate', String(f.fps), '-i', source.path],
        ...['-vf', fitFilter(f)],
        ...ENCODE,
        ...OUTPUT,
      ];
    case 'folder':
      // Not `-re`: the fps filter only fills an image's hold time once it has read the next image, so
      // reading is left free and the `realtime` filter paces the output instead.
      return [
        ...head,
        ...['-f', 'image2', '-loop', '1', '-pattern_type', 'glob'],
        ...['-framerate', `1/${source.holdSeconds}`, '-i', `${escapeGlob(source.path)}/${IMAGE_GLOB}`],
        ...['-vf', `${fitFilter(f)},fps=${f.fps},realtime`],
        ...ENCODE,
        ...OUTPUT,
      ];
  }
}

function escapeGlob(path: string): string {
  return path.replace(/[*?[\]{}\\]/g, '\\$&');
}
