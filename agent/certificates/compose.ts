// Composes a certificate image at 300 dpi with sharp: the page colour, the photo fitted to its box, and
// each text line rendered by Pango from the Noto Sans Hans font file shipped in the npm package
// `@embedpdf/fonts-sc` (no system font needed, so it renders the same on every box).
import sharp, { type OverlayOptions } from 'sharp';
import { notoFonts } from '../../drivers/printer/fonts.js';
import { mmToPx, PHOTO_DPI } from '../photos/id-photo-specs.js';
import { fillText, type CertificateTemplate } from './templates.js';

export interface ComposedCertificate {
  image: Buffer;
  format: 'image/jpeg' | 'image/png';
  widthPx: number;
  heightPx: number;
}

const escapeMarkup = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export async function composeCertificate(
  t: CertificateTemplate,
  fields: Record<string, string>,
  photo: Buffer,
  format: 'image/jpeg' | 'image/png',
): Promise<ComposedCertificate> {
  const W = mmToPx(t.page.widthMm);
  const H = mmToPx(t.page.heightMm);
  const fonts = notoFonts();
  const layers: OverlayOptions[] = [];
  const box = t.photo;
  const photoPx = await sharp(photo)
    .rotate()
    .resize(mmToPx(box.widthMm), mmToPx(box.heightMm), { fit: 'cover', position: 'centre' })
    .removeAlpha()
    .toBuffer();
  layers.push({ input: photoPx, left: mmToPx(box.xMm), top: mmToPx(box.yMm) });
  for (const line of t.texts) {
    const font = line.bold ? fonts.bold : fonts.regular;
    const text = escapeMarkup(fillText(line.text, fields));
    const rendered = await sharp({
      text: {
        text: `<span foreground="${line.color ?? '#1a1a1a'}">${text}</span>`,
        font: `${font.family} ${line.sizePt}`,
        fontfile: font.file,
        dpi: PHOTO_DPI,
        rgba: true,
        ...(line.maxWidthMm ? { width: mmToPx(line.maxWidthMm), wrap: 'char' as const } : {}),
      },
    })
      .png()
      .toBuffer({ resolveWithObject: true });
    const left = mmToPx(line.xMm);
    const top = mmToPx(line.yMm);
    // A line that runs past the card's edge is cut there, as the card would cut it (sharp refuses overhang).
    const width = Math.min(rendered.info.width, W - left);
    const height = Math.min(rendered.info.height, H - top);
    if (width <= 0 || height <= 0) continue;
    const input =
      width === rendered.info.width && height === rendered.info.height
        ? rendered.data
        : await sharp(rendered.data).extract({ left: 0, top: 0, width, height }).toBuffer();
    layers.push({ input, left, top });
  }
  const page = sharp({
    create: { width: W, height: H, channels: 3, background: t.page.background ?? '#ffffff' },
  })
    .composite(layers)
    .withMetadata({ density: PHOTO_DPI });
  const image =
    format === 'image/png'
      ? await page.png().toBuffer()
      : await page.jpeg({ quality: 95, chromaSubsampling: '4:4:4' }).toBuffer();
  return { image, format, widthPx: W, heightPx: H };
}
