// Camera configuration: the shipped example validates, sources are recognised, wrong options are named,
// and each source becomes the ffmpeg command it needs.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig, ConfigError } from '../../../config/load.js';
import { parseSource } from '../../../agent/kinds/camera.js';
import { withDeviceDefaults, type CameraOptions, type DeviceConfig } from '../../../config/schema.js';
import { ffmpegArgs } from '../../../drivers/camera/ffmpeg-args.js';

const FORMAT = { width: 640, height: 480, fps: 15 };

/** A loaded camera entry's options (filled in with defaults by the loader). */
function cameraOptions(device: DeviceConfig | undefined): CameraOptions {
  if (device?.kind !== 'camera') throw new Error('not a camera entry');
  return device.camera;
}

describe('config/examples/face-camera.yaml', () => {
  it('is valid: a dual RGB + IR UVC camera and an RTSP camera with defaults filled in', () => {
    const file = fileURLToPath(new URL('../../../config/examples/face-camera.yaml', import.meta.url));
    const { config } = loadConfig({ file, env: {} });
    const [uvc, ip] = config.devices;
    expect(uvc).toMatchObject({ kind: 'camera', transport: { type: 'video' } });
    const o = cameraOptions(uvc);
    expect(o).toMatchObject({ source: '/dev/video0', irSource: '/dev/video2', inputFormat: 'mjpeg' });
    expect(parseSource(o.source!, o)).toEqual({ kind: 'v4l2', path: '/dev/video0', inputFormat: 'mjpeg' });
    expect(cameraOptions(ip)).toMatchObject({ fps: 10, width: 640, previewFps: 10, stallSeconds: 5 });
    expect(config.face.capture).toEqual({ timeoutMs: 10000, consecutiveFrames: 2 });
  });

  it('names a wrong camera option with its key path', () => {
    const yaml = [
      'box: { id: b }',
      'devices:',
      '  - id: c',
      '    kind: camera',
      '    transport: { type: video }',
      '    camera: { source: /dev/video0, fps: 0, colour: true }',
      '',
    ].join('\n');
    let err: ConfigError | undefined;
    try {
      parseConfig(yaml, 'cfg.yaml');
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err?.problems.map((p) => `${p.path}: ${p.message}`).sort()).toEqual([
      'devices.0.camera.colour: unknown key',
      'devices.0.camera.fps: must be >= 1',
    ]);
  });
});

describe('camera sources', () => {
  const o = cameraOptions(withDeviceDefaults({ id: 'c', kind: 'camera', transport: { type: 'video' } }));

  it('tells V4L2 nodes and stream URLs apart', () => {
    expect(parseSource('rtsp://10.0.0.9/s', o)).toEqual({ kind: 'url', url: 'rtsp://10.0.0.9/s' });
    expect(parseSource('http://cam/mjpg', o)).toEqual({ kind: 'url', url: 'http://cam/mjpg' });
    expect(() => parseSource('video0', o)).toThrow(/neither a \/dev\/video path nor/);
  });

  it('asks a V4L2 camera for MJPEG and copies the frames, re-encoding only other sources', () => {
    const v4l2 = ffmpegArgs({ kind: 'v4l2', path: '/dev/video0', inputFormat: 'mjpeg' }, FORMAT);
    expect(v4l2.join(' ')).toContain(
      '-f v4l2 -input_format mjpeg -video_size 640x480 -framerate 15 -i /dev/video0',
    );
    expect(v4l2.join(' ')).toContain('-c:v copy');
    expect(v4l2.slice(-3)).toEqual(['-f', 'mjpeg', 'pipe:1']);
    const rtsp = ffmpegArgs({ kind: 'url', url: 'rtsp://x/s' }, FORMAT).join(' ');
    expect(rtsp).toContain('-rtsp_transport tcp -i rtsp://x/s');
    expect(rtsp).toContain('-c:v mjpeg');
    expect(ffmpegArgs({ kind: 'still', path: '/p/a.jpg' }, FORMAT).join(' ')).toContain('-re -loop 1');
  });
});
