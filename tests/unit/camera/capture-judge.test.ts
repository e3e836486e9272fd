// What a capture says is missing from a frame, in the order a resident can fix it.
import { describe, expect, it } from 'vitest';
import type { AnalysedFace, Analysis } from '../../../agent/face/analyse.js';
import { CAPTURE_HINTS, judgeFrame } from '../../../agent/face/capture-judge.js';

const GATE = {
  minFaceSize: 80,
  minSharpness: 25,
  maxYaw: 45,
  maxPitch: 40,
  minBrightness: 40,
  maxBrightness: 220,
};

function face(over: Partial<AnalysedFace['quality']> = {}, live = true): AnalysedFace {
  const size = over.size ?? 150;
  return {
    box: { x1: 0, y1: 0, x2: size, y2: size, score: 0.99 },
    landmarks: [],
    aligned: new Uint8Array(0),
    quality: { size, sharpness: 60, pose: { yaw: 0, pitch: 0, roll: 0 }, brightness: 120, ...over },
    liveness: { live, score: live ? 0.9 : 0.1 },
  };
}

function frame(...faces: AnalysedFace[]): Analysis {
  return {
    width: 640,
    height: 480,
    faces,
    timings: { decode: 0, detect: 0, landmarks: 0, align: 0, embed: 0, liveness: 0 },
  };
}

const missing = (a: Analysis, liveness = true): string | undefined => {
  const v = judgeFrame(a, GATE, liveness);
  return v.ok ? undefined : v.missing;
};

describe('judgeFrame', () => {
  it('takes one good, live face', () => {
    expect(missing(frame(face()))).toBeUndefined();
  });

  it('names what is missing', () => {
    expect(missing(frame())).toBe('no-face');
    expect(missing(frame(face(), face({ size: 120 })))).toBe('several-faces');
    expect(missing(frame(face({ size: 60 })))).toBe('too-far');
    expect(missing(frame(face({ pose: { yaw: 60, pitch: 0, roll: 0 } })))).toBe('not-frontal');
    expect(missing(frame(face({ sharpness: 5 })))).toBe('blurred');
    expect(missing(frame(face({ brightness: 10 })))).toBe('too-dark');
    expect(missing(frame(face({ brightness: 250 })))).toBe('too-bright');
    expect(missing(frame(face({}, false)))).toBe('not-live');
    expect(CAPTURE_HINTS['too-far']).toBe('move closer');
    expect(CAPTURE_HINTS['not-frontal']).toBe('look at the camera');
  });

  it('ignores a much smaller face behind the resident, and liveness when not asked', () => {
    expect(missing(frame(face(), face({ size: 40 })))).toBeUndefined();
    expect(missing(frame(face({}, false)), false)).toBeUndefined();
  });
});
