// ID photos for certificates: a portrait (sent, or from the counter camera) cropped by its face landmarks
// to an official size at 300 dpi, returned as JPEG with the achieved framing in response headers.
import { Type } from '@sinclair/typebox';
import { Base64Image, IMAGE_BODY_LIMIT_BYTES } from './face-schemas.js';
import { BinaryOutput, BinarySchema, defineOperation } from './operation.js';

export const PhotoSpecSchema = Type.Union(
  [
    Type.Literal('1-inch', { description: '25 × 35 mm' }),
    Type.Literal('2-inch', { description: '35 × 49 mm' }),
    Type.Object(
      {
        widthMm: Type.Number({ minimum: 10, maximum: 100 }),
        heightMm: Type.Number({ minimum: 10, maximum: 150 }),
      },
      { additionalProperties: false, description: 'A custom size; framing scales with the height' },
    ),
  ],
  { default: '1-inch' },
);

/** The framing the photo achieved, as response headers (a page reads them: they are CORS-exposed). */
const ID_PHOTO_HEADERS = {
  'X-Photo-Spec': 'The size made: 1-inch, 2-inch or WxH mm',
  'X-Photo-Size': 'Pixels and resolution, e.g. 295x413@300dpi',
  'X-Photo-Head-Height-Mm': 'Head height (crown to chin) on the photo, mm',
  'X-Photo-Eye-Line-Mm': 'Eye line from the top of the photo, mm',
  'X-Photo-Background': 'The background check: light or not-light; luma=<mean>; spread=<spread>',
} as const;

export const makeIdPhoto = defineOperation({
  name: 'photos.idPhoto',
  summary:
    'Crops a portrait to an ID photo (1-inch 25×35 mm, 2-inch 35×49 mm or custom, 300 dpi) from its face landmarks; JPEG. Headers X-Photo-* give size, head height, eye line and the background check.',
  scope: 'face',
  risk: 'personal-data',
  problems: ['no-face', 'several-faces', 'photo-unusable', 'capture-timeout', 'camera-unavailable'],
  bodyLimitBytes: IMAGE_BODY_LIMIT_BYTES,
  input: Type.Object(
    {
      image: Type.Optional(Base64Image),
      camera: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: 64,
          description: 'Camera device id to take the picture with',
        }),
      ),
      spec: PhotoSpecSchema,
      requireLightBackground: Type.Boolean({
        default: true,
        description: 'Refuse (422 photo-unusable) a picture whose background is not light and plain',
      }),
    },
    { additionalProperties: false, description: 'Either image or camera' },
  ),
  output: BinarySchema('image/jpeg', ID_PHOTO_HEADERS),
  http: { method: 'POST', path: '/v1/photos/id-photo' },
  async handler(input, { services, principal }) {
    const photo = await services.photos.idPhoto(input);
    services.store.audit.append({
      actor: principal.name,
      action: 'photo.id-photo',
      ...(input.camera ? { target: input.camera } : {}),
      detail: { spec: photo.spec.name, source: input.camera ? 'camera' : 'image' },
    });
    return new BinaryOutput('image/jpeg', photo.jpeg, {
      'X-Photo-Spec': photo.spec.name,
      'X-Photo-Size': `${photo.widthPx}x${photo.heightPx}@${photo.dpi}dpi`,
      'X-Photo-Head-Height-Mm': String(photo.headHeightMm),
      'X-Photo-Eye-Line-Mm': String(photo.eyeLineMm),
      'X-Photo-Background': `${photo.background.light ? 'light' : 'not-light'}; luma=${photo.background.meanLuma}; spread=${photo.background.spread}`,
    } satisfies Record<keyof typeof ID_PHOTO_HEADERS, string>);
  },
});
