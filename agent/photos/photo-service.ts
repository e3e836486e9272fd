// ID photos: a portrait from the request or from the counter camera, cropped to a photo size by its face
// landmarks. The camera capture is one injected function (the camera part owns how a picture is taken);
// without it `{camera}` is a camera-unavailable problem.
import sharp from 'sharp';
import { decodeBase64, type FaceService } from '../face/face-service.js';
import { Problem, type FieldPath } from '../problems/problem.js';
import { cropIdPhoto, singleFace, type IdPhoto } from './id-photo.js';
import { customSpec, NAMED_SPECS, type IdPhotoSpec } from './id-photo-specs.js';
import { t } from '../messages/text.js';

/**
 * Takes one picture of the person at the counter with the camera `cameraId`, as JPEG; its problems name
 * `field` (where the camera id was in the request).
 */
export type CaptureFace = (cameraId: string, field: FieldPath) => Promise<Buffer>;

export type SpecInput = '1-inch' | '2-inch' | { widthMm: number; heightMm: number };

export interface IdPhotoRequest {
  image?: string;
  camera?: string;
  spec: SpecInput;
  /** Refuse a picture whose background is not light and plain (default true). */
  requireLightBackground?: boolean;
}

export function resolveSpec(spec: SpecInput): IdPhotoSpec {
  return typeof spec === 'string' ? NAMED_SPECS[spec] : customSpec(spec.widthMm, spec.heightMm);
}

export class PhotoService {
  private captureFace: CaptureFace | undefined;

  constructor(private readonly face: FaceService) {}

  /** Wires the camera capture (the composition root does, once the camera part provides one). */
  setCapture(capture: CaptureFace | undefined): void {
    this.captureFace = capture;
  }

  async idPhoto(req: IdPhotoRequest, fieldPrefix: FieldPath = []): Promise<IdPhoto> {
    const { buf, field } = await this.picture(req, fieldPrefix);
    const { image, faces } = await this.face.locateFaces(buf, field);
    return cropIdPhoto(image, singleFace(faces, field), resolveSpec(req.spec), {
      field,
      requireLightBackground: req.requireLightBackground ?? true,
    });
  }

  /**
   * The photo a certificate prints: the picture as sent (checked to be an image), or an ID photo cut for
   * the template's photo box from the picture (`crop`) or from the camera.
   */
  async checkedPhoto(
    photo: { image?: string; camera?: string; crop: boolean; requireLightBackground: boolean },
    box: { widthMm: number; heightMm: number },
  ): Promise<Buffer> {
    if (photo.crop || photo.camera !== undefined) {
      const made = await this.idPhoto(
        {
          ...(photo.image !== undefined ? { image: photo.image } : {}),
          ...(photo.camera !== undefined ? { camera: photo.camera } : {}),
          spec: box,
          requireLightBackground: photo.requireLightBackground,
        },
        ['photo'],
      );
      return made.jpeg;
    }
    if (photo.image === undefined)
      throw new Problem('invalid-request', t`give "image" or "camera"`, ['photo']);
    const buf = decodeBase64(photo.image, ['photo', 'image']);
    try {
      const meta = await sharp(buf).metadata();
      if (!meta.width || !meta.height) throw new Error('no size');
    } catch {
      throw new Problem('image-invalid', t`the photo is not a JPEG, PNG or other image this box can read`, [
        'photo',
        'image',
      ]);
    }
    return buf;
  }

  private async picture(req: IdPhotoRequest, prefix: FieldPath): Promise<{ buf: Buffer; field: FieldPath }> {
    if ((req.image === undefined) === (req.camera === undefined)) {
      throw new Problem('invalid-request', t`give either "image" or "camera"`, [...prefix, 'image']);
    }
    if (req.image !== undefined) {
      const field = [...prefix, 'image'];
      return { buf: decodeBase64(req.image, field), field };
    }
    const field = [...prefix, 'camera'];
    if (!this.captureFace) {
      throw new Problem(
        'camera-unavailable',
        t`taking the ID photo from the camera is not available in this build; send the picture as "image"`,
        field,
      );
    }
    return { buf: await this.captureFace(req.camera!, field), field };
  }
}
