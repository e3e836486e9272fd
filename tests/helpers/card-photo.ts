// A face image made to look like the photo a second-generation ID card holds: cropped head-and-shoulders,
// reduced to 102×126 and squeezed hard (the chip keeps it in 1024 bytes of wavelet code). Used by the card
// accuracy bench and by the decoder test doubles, so both see the same kind of picture.
import sharp from 'sharp';

export const CARD_PHOTO_WIDTH = 102;
export const CARD_PHOTO_HEIGHT = 126;
/**
 * JPEG quality of the stand-in compression. WLT spends ~0.6 bit per pixel; a wavelet coder at that rate
 * blurs more than it blocks, so the stand-in is a half-resolution round trip (the low band) then JPEG q 35.
 */
const CARD_JPEG_QUALITY = 35;

/**
 * Raw RGB pixels (top-down, 102×126×3) of a card-like photo of the face in an LFW-style image (250×250,
 * centred on the face). The crop keeps the head about two thirds of the width, as on the card.
 */
export async function cardPhotoPixels(image: Buffer): Promise<Buffer> {
  const meta = await sharp(image).metadata();
  const w = meta.width ?? 250;
  const h = meta.height ?? 250;
  const cropW = Math.round(w * 0.6);
  const cropH = Math.round((cropW * CARD_PHOTO_HEIGHT) / CARD_PHOTO_WIDTH);
  const left = Math.round((w - cropW) / 2);
  const top = Math.max(0, Math.min(h - cropH, Math.round(h / 2 - cropH / 2 - h * 0.02)));
  const small = await sharp(image)
    .extract({ left, top, width: cropW, height: Math.min(cropH, h - top) })
    .resize(CARD_PHOTO_WIDTH / 2, CARD_PHOTO_HEIGHT / 2, { fit: 'fill' })
    .resize(CARD_PHOTO_WIDTH, CARD_PHOTO_HEIGHT, { fit: 'fill' })
    .jpeg({ quality: CARD_JPEG_QUALITY, chromaSubsampling: '4:2:0' })
    .toBuffer();
  return sharp(small).removeAlpha().raw().toBuffer();
}

/** The same photo as a JPEG (what the daemon serves for a decoded card photo). */
export async function cardPhotoJpeg(image: Buffer): Promise<Buffer> {
  const rgb = await cardPhotoPixels(image);
  return sharp(rgb, { raw: { width: CARD_PHOTO_WIDTH, height: CARD_PHOTO_HEIGHT, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
}
