// Images through the face pipeline for the service's callers, all in one bounded queue: a full queue answers
// 503 face-busy (come back later) rather than piling work up, and an unreadable image names its field.
import type { FaceConfig } from '../../config/schema.js';
import { Problem, type FieldPath } from '../problems/problem.js';
import { analyseImage, type AnalysedFace, type Analysis } from './analyse.js';
import type { Box } from './detection.js';
import type { FaceLifecycle } from './face-lifecycle.js';
import type { Point } from './geometry.js';
import { decodeImage, ImageError, type RgbImage } from './image.js';
import type { ImageRef } from './results.js';
import { QueueFullError, WorkQueue } from './work-queue.js';
import { t, verbatim } from '../messages/text.js';

const RETRY_AFTER_SECONDS = 1;

/** Which faces of an image get an embedding or a liveness score. */
export type FacePick = 'none' | 'all' | 'largest';

export class FaceAnalyser {
  private readonly queue: WorkQueue;

  constructor(
    private readonly config: FaceConfig,
    private readonly lifecycle: Pick<FaceLifecycle, 'models'>,
  ) {
    this.queue = new WorkQueue(config.concurrency, config.queueSize);
  }

  /** An image the operations received (base64) through the pipeline; problems name `field`. */
  analyse(ref: ImageRef, field: FieldPath, embed: FacePick, liveness: FacePick): Promise<Analysis> {
    return this.analyseBuffer(decodeBase64(ref.image, field), field, embed, liveness);
  }

  /**
   * One camera frame through the pipeline (detect, landmarks, quality; liveness of the largest face when
   * asked), in the same bounded queue as the API's images. No embedding: `embedFace` adds it to the frame
   * that is kept.
   */
  analyseFrame(jpeg: Buffer, opts: { liveness: boolean }): Promise<Analysis> {
    return this.analyseBuffer(jpeg, ['camera'], 'none', opts.liveness ? 'largest' : 'none');
  }

  /** The embedding of a face found by `analyseFrame`. */
  async embedFace(face: AnalysedFace): Promise<Float32Array> {
    const { engine } = this.lifecycle.models();
    face.embedding ??= await this.queue.run(() => engine.embed(face.aligned));
    return face.embedding;
  }

  /**
   * The decoded image (EXIF-rotated, scaled to `face.maxImageSide`) with each face's box and five landmarks
   * in its pixels, largest face first: what an ID-photo crop is cut from.
   */
  async locateFaces(
    buf: Buffer,
    field: FieldPath,
  ): Promise<{ image: RgbImage; faces: { box: Box; landmarks: Point[] }[] }> {
    const { engine } = this.lifecycle.models();
    return this.queued(field, async () => {
      const image = await decodeImage(buf, {
        maxPixels: this.config.maxImagePixels,
        maxSide: this.config.maxImageSide,
      });
      const faces: { box: Box; landmarks: Point[] }[] = [];
      for (const box of await engine.detect(image)) {
        faces.push({ box, landmarks: engine.fivePoints(await engine.landmarks(image, box)) });
      }
      const area = (b: Box): number => (b.x2 - b.x1) * (b.y2 - b.y1);
      faces.sort((a, b) => area(b.box) - area(a.box));
      return { image, faces };
    });
  }

  /** Decodes and analyses one image inside the bounded queue; image problems name `field`. */
  private async analyseBuffer(
    buf: Buffer,
    field: FieldPath,
    embed: FacePick,
    liveness: FacePick,
  ): Promise<Analysis> {
    const { engine } = this.lifecycle.models();
    return this.queued(field, () =>
      analyseImage(engine, buf, {
        limits: { maxPixels: this.config.maxImagePixels, maxSide: this.config.maxImageSide },
        embed,
        liveness,
      }),
    );
  }

  /** Runs image work in the bounded queue; a full queue and unreadable images become problems. */
  private async queued<T>(field: FieldPath, work: () => Promise<T>): Promise<T> {
    try {
      return await this.queue.run(work);
    } catch (err) {
      if (err instanceof QueueFullError) {
        throw new Problem('face-busy', verbatim(err.message), undefined, { retryAfter: RETRY_AFTER_SECONDS });
      }
      if (err instanceof ImageError) {
        throw new Problem(
          err.reason === 'too-large' ? 'image-too-large' : 'image-invalid',
          verbatim(err.message),
          field,
        );
      }
      throw err;
    }
  }
}

/** The one face of an analysis (or the largest when `largest`), else a problem naming the count. */
export function oneFace(a: Analysis, field: FieldPath, largest: boolean): AnalysedFace {
  if (a.faces.length === 0) throw new Problem('no-face', t`no face was found in the image`, field);
  if (a.faces.length > 1 && !largest) {
    throw new Problem(
      'several-faces',
      t`${a.faces.length} faces were found; send an image with one face or set "largest": true`,
      field,
      { faces: a.faces.length },
    );
  }
  return a.faces[0]!;
}

/** An image as the operations carry it: base64, optionally a data: URL. */
export function decodeBase64(text: string, field: FieldPath): Buffer {
  const comma = text.startsWith('data:') ? text.indexOf(',') : -1;
  const b64 = comma >= 0 ? text.slice(comma + 1) : text;
  if (!/^[A-Za-z0-9+/_=\s-]*$/.test(b64)) {
    throw new Problem('image-invalid', t`the image must be base64 (optionally a data: URL)`, field);
  }
  return Buffer.from(b64, 'base64');
}
