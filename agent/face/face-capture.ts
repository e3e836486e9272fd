// "A good, live face of the person in front of the counter now": reads a camera's frames as they come
// (always the newest, skipping those that arrived while the previous one was analysed) until one face of
// enough size, sharpness, frontal pose and liveness is seen on consecutive frames, or the time is up.
// Hints go out as `face.capture.hint` events when what is missing changes, so the counter UI can guide
// the resident. Other features (the ID photo) call `capture` for a good frame of their own.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { FaceConfig } from '../../config/schema.js';
import type { CameraService } from '../camera/camera-service.js';
import type { EventLog } from '../events/event-log.js';
import { Problem, type FieldPath } from '../problems/problem.js';
import type { Frame } from '../../drivers/camera/camera.js';
import type { AnalysedFace, Analysis } from './analyse.js';
import { CAPTURE_HINTS, judgeFrame, type CaptureMissing, type FrameVerdict } from './capture-judge.js';
import type { FaceService } from './face-service.js';
import { message, t } from '../messages/text.js';

export interface CaptureRequest {
  camera: string;
  timeoutMs?: number;
  liveness?: boolean;
  /** Good frames in a row before the capture is taken (default face.capture.consecutiveFrames). */
  consecutiveFrames?: number;
  /** Where the camera id came from in the caller's input, for problems. */
  field?: FieldPath;
}

export interface Capture {
  id: string;
  camera: string;
  /** The frame the face was taken from, as the camera delivered it. */
  frame: Frame;
  width: number;
  height: number;
  face: AnalysedFace;
  /** The IR frame paired with `frame`, when the camera has an IR source. */
  irFrame?: Frame;
  framesExamined: number;
  /** From the chosen frame's arrival to the decision (analysis time included). */
  decisionMs: number;
  timingMs: number;
}

const HINT_EVENT = 'face.capture.hint';

export class FaceCaptureService {
  constructor(
    private readonly cameras: CameraService,
    private readonly face: FaceService,
    private readonly events: EventLog,
    private readonly config: FaceConfig,
    private readonly log: Logger,
  ) {}

  async capture(req: CaptureRequest): Promise<Capture> {
    const t0 = performance.now();
    const field = req.field ?? ['camera'];
    const timeoutMs = req.timeoutMs ?? this.config.capture.timeoutMs;
    const liveness = req.liveness ?? true;
    const needed = req.consecutiveFrames ?? this.config.capture.consecutiveFrames;
    const deadline = t0 + timeoutMs;
    const id = randomUUID();
    // Fails now (not-found / device-unavailable) when the camera is unknown or not streaming.
    let camera = this.cameras.camera(req.camera, field);
    // Frames from now on only: the person in front of the counter *now*.
    let afterSeq = camera.driver.latest()?.seq ?? 0;
    let good = 0;
    let examined = 0;
    let lastMissing: CaptureMissing | undefined;
    const seen: Partial<Record<CaptureMissing, number>> = {};
    for (;;) {
      const remaining = deadline - performance.now();
      if (remaining <= 0) break;
      const frame = await camera.driver.nextFrame(afterSeq, remaining);
      if (!frame) {
        // No frame in time: the camera may have dropped out; say so rather than "no face".
        camera = this.cameras.camera(req.camera, field);
        break;
      }
      afterSeq = frame.seq;
      const analysis = await this.face.analyseFrame(frame.jpeg, { liveness });
      examined++;
      let verdict = judgeFrame(analysis, this.config.enrol, liveness);
      let irFrame: Frame | undefined;
      if (verdict.ok && liveness && camera.driver.options.irSource) {
        irFrame = camera.driver.pairOf(frame).ir;
        verdict = await this.checkInfrared(verdict, analysis, irFrame);
      }
      if (!verdict.ok) {
        good = 0;
        seen[verdict.missing] = (seen[verdict.missing] ?? 0) + 1;
        if (verdict.missing !== lastMissing) {
          this.events.publish(HINT_EVENT, {
            capture: id,
            camera: req.camera,
            missing: verdict.missing,
            hint: CAPTURE_HINTS[verdict.missing],
          });
        }
        lastMissing = verdict.missing;
        continue;
      }
      if (++good < needed) continue;
      await this.face.embedFace(verdict.face);
      const now = performance.now();
      return {
        id,
        camera: req.camera,
        frame,
        width: analysis.width,
        height: analysis.height,
        face: verdict.face,
        ...(irFrame ? { irFrame } : {}),
        framesExamined: examined,
        decisionMs: now - frame.at,
        timingMs: now - t0,
      };
    }
    const missing: CaptureMissing = lastMissing ?? 'no-face';
    this.log.info({ camera: req.camera, missing, examined }, 'face capture timed out');
    throw new Problem(
      'capture-timeout',
      t`no good face within ${timeoutMs} ms: ${missing} (${message('hint', missing)})`,
      field,
      { missing, hint: CAPTURE_HINTS[missing], framesExamined: examined, seen },
    );
  }

  /**
   * A dual RGB + IR module: a printed photo or a screen held up to the camera shows no face in infrared,
   * so the IR frame taken with the RGB one must hold a face where the RGB face is.
   */
  private async checkInfrared(
    verdict: FrameVerdict & { ok: true },
    rgb: Analysis,
    ir: Frame | undefined,
  ): Promise<FrameVerdict> {
    if (!ir) return { ok: false, missing: 'not-live' };
    const a = await this.face.analyseFrame(ir.jpeg, { liveness: false });
    const b = verdict.face.box;
    const cx = (b.x1 + b.x2) / 2 / rgb.width;
    const cy = (b.y1 + b.y2) / 2 / rgb.height;
    const halfW = (b.x2 - b.x1) / 2 / rgb.width;
    const near = a.faces.some((f) => {
      const fx = (f.box.x1 + f.box.x2) / 2 / a.width;
      const fy = (f.box.y1 + f.box.y2) / 2 / a.height;
      return Math.abs(fx - cx) < halfW && Math.abs(fy - cy) < halfW * 1.5;
    });
    return near ? verdict : { ok: false, missing: 'not-live' };
  }
}
