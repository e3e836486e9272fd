// The print document a counter application writes by hand: a page in mm and positioned items. The TypeBox
// schema is the single source of its types, validation and API docs.
import { Type, type Static, type TUnsafe, type TObject, type TUnion } from '@sinclair/typebox';

// Local copies of the two helpers from config/schema.ts: drivers may not import from config/.
function StringEnum<const T extends readonly string[]>(
  values: T,
  options: Record<string, unknown> = {},
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}
function TaggedUnion<T extends TObject[]>(
  branches: [...T],
  options: Record<string, unknown> = {},
): TUnsafe<Static<TUnion<T>>> {
  return Type.Unsafe<Static<TUnion<T>>>({
    oneOf: branches,
    discriminator: { propertyName: 'type' },
    ...options,
  });
}

export const PAGE_SIZES = {
  A4: { widthMm: 210, heightMm: 297 },
  A5: { widthMm: 148, heightMm: 210 },
  // Continuous fan-fold stationery, 9.5" with the tractor strips, 11" long.
  'continuous-241x280': { widthMm: 241, heightMm: 280 },
} as const;
export type PageSizeName = keyof typeof PAGE_SIZES;

const Mm = (description: string, options: Record<string, unknown> = {}) =>
  Type.Number({ minimum: -1000, maximum: 2000, description, ...options });
const Size = (description: string) => Type.Number({ exclusiveMinimum: 0, maximum: 2000, description });
const SizePt = Type.Number({ minimum: 4, maximum: 72, default: 10.5, description: 'Font size in points' });

export const PageSchema = Type.Object(
  {
    size: Type.Optional(
      StringEnum(Object.keys(PAGE_SIZES) as (keyof typeof PAGE_SIZES)[], {
        description: 'A named size; widthMm/heightMm override it',
      }),
    ),
    widthMm: Type.Optional(Size('Page width')),
    heightMm: Type.Optional(Size('Page length')),
  },
  { additionalProperties: false },
);

const Overflow = StringEnum(['error', 'shrink', 'wrap'] as const, {
  default: 'error',
  description: 'Text wider than its room: an error (default), set smaller, or wrapped onto more lines',
});

const TextItem = Type.Object(
  {
    type: Type.Literal('text'),
    xMm: Mm('Left edge of the first character on the paper'),
    yMm: Mm('Top of the first line on the paper'),
    text: Type.String({ maxLength: 2000 }),
    sizePt: SizePt,
    bold: Type.Boolean({ default: false }),
    doubleWidth: Type.Boolean({ default: false }),
    maxWidthMm: Type.Optional(Size('Room for the text; default: to the right edge of the page')),
    overflow: Overflow,
  },
  { additionalProperties: false },
);

const TextBoxItem = Type.Object(
  {
    type: Type.Literal('textbox'),
    xMm: Mm('Left edge'),
    yMm: Mm('Top edge'),
    widthMm: Size('Box width'),
    heightMm: Size('Box height'),
    text: Type.String({ maxLength: 10000 }),
    sizePt: SizePt,
    bold: Type.Boolean({ default: false }),
    overflow: StringEnum(['error', 'shrink'] as const, {
      default: 'error',
      description: 'Lines that do not fit the box height',
    }),
  },
  { additionalProperties: false },
);

const LineItem = Type.Object(
  {
    type: Type.Literal('line'),
    x1Mm: Mm('Start x'),
    y1Mm: Mm('Start y'),
    x2Mm: Mm('End x'),
    y2Mm: Mm('End y'),
    thicknessMm: Type.Number({ minimum: 0.1, maximum: 10, default: 0.3 }),
  },
  { additionalProperties: false },
);

const BoxItem = Type.Object(
  {
    type: Type.Literal('box'),
    xMm: Mm('Left edge'),
    yMm: Mm('Top edge'),
    widthMm: Size('Width'),
    heightMm: Size('Height'),
    thicknessMm: Type.Number({ minimum: 0.1, maximum: 10, default: 0.3 }),
  },
  { additionalProperties: false },
);

const ImageItem = Type.Object(
  {
    type: Type.Literal('image'),
    xMm: Mm('Left edge'),
    yMm: Mm('Top edge'),
    widthMm: Size('Printed width'),
    heightMm: Type.Optional(Size('Printed height; default keeps the aspect ratio')),
    data: Type.String({ minLength: 1, description: 'PNG or JPEG, base64' }),
    threshold: Type.Integer({
      minimum: 1,
      maximum: 255,
      default: 128,
      description: 'Grey below this prints a dot',
    }),
    density: Type.Optional(
      Type.Union([Type.Literal(180), Type.Literal(360)], {
        description:
          'Horizontal dots per inch (default 180): 360 prints ESC * 40 in two passes, twice the bytes',
      }),
    ),
    dither: Type.Boolean({
      default: true,
      description: 'Error-diffusion dithering (photos); off for line art',
    }),
  },
  { additionalProperties: false },
);

const BarcodeItem = Type.Object(
  {
    type: Type.Literal('barcode'),
    xMm: Mm('Left edge'),
    yMm: Mm('Top edge'),
    widthMm: Size('Width'),
    heightMm: Size('Height'),
    symbology: StringEnum(['code128', 'code39', 'ean13', 'pdf417', 'datamatrix'] as const, {
      default: 'code128',
    }),
    data: Type.String({ minLength: 1, maxLength: 1000 }),
  },
  { additionalProperties: false },
);

const QrItem = Type.Object(
  {
    type: Type.Literal('qr'),
    xMm: Mm('Left edge'),
    yMm: Mm('Top edge'),
    sizeMm: Size('Side of the square'),
    data: Type.String({ minLength: 1, maxLength: 2000 }),
  },
  { additionalProperties: false },
);

const TableItem = Type.Object(
  {
    type: Type.Literal('table'),
    xMm: Mm('Left edge'),
    yMm: Mm('Top edge'),
    columnsMm: Type.Array(Size('Column width'), { minItems: 1, maxItems: 50 }),
    rowHeightMm: Size('Height of every row'),
    rows: Type.Array(Type.Array(Type.String({ maxLength: 2000 }), { maxItems: 50 }), { maxItems: 200 }),
    sizePt: SizePt,
    boldFirstRow: Type.Boolean({ default: false }),
    borders: Type.Boolean({ default: true, description: 'Rules around and between the cells' }),
    thicknessMm: Type.Number({ minimum: 0.1, maximum: 5, default: 0.3 }),
    paddingMm: Type.Number({ minimum: 0, maximum: 20, default: 1 }),
    overflow: StringEnum(['error', 'shrink'] as const, {
      default: 'error',
      description: 'A cell whose text does not fit (it wraps within the cell first)',
    }),
  },
  { additionalProperties: false },
);

export const ItemSchema = TaggedUnion([
  TextItem,
  TextBoxItem,
  LineItem,
  BoxItem,
  ImageItem,
  BarcodeItem,
  QrItem,
  TableItem,
]);
export type DocumentItem = Static<typeof ItemSchema>;
export type TextItem = Static<typeof TextItem>;
export type TextBoxItem = Static<typeof TextBoxItem>;
export type LineItem = Static<typeof LineItem>;
export type BoxItem = Static<typeof BoxItem>;
export type ImageItem = Static<typeof ImageItem>;
export type BarcodeItem = Static<typeof BarcodeItem>;
export type QrItem = Static<typeof QrItem>;
export type TableItem = Static<typeof TableItem>;

export const LayoutDocumentSchema = Type.Object(
  {
    page: PageSchema,
    items: Type.Array(ItemSchema, { maxItems: 2000 }),
    copies: Type.Integer({ minimum: 1, maximum: 20, default: 1 }),
  },
  { additionalProperties: false },
);
export type LayoutDocument = Static<typeof LayoutDocumentSchema>;

/** The page in mm, or an error message when neither a size nor both dimensions are given. */
export function resolvePage(page: LayoutDocument['page']): { widthMm: number; heightMm: number } | string {
  const named = page.size ? PAGE_SIZES[page.size] : undefined;
  const widthMm = page.widthMm ?? named?.widthMm;
  const heightMm = page.heightMm ?? named?.heightMm;
  if (widthMm === undefined || heightMm === undefined)
    return 'give page.size or both page.widthMm and page.heightMm';
  return { widthMm, heightMm };
}
