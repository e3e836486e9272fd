// The IPP message encoding (RFC 8010 §3): a version, an operation or status code, a request id, attribute
// groups, then the document data. Only what a print client needs: the value types a printer sends back are
// all decoded (collections included); requests are built from a small typed attribute list.

export const IPP_OPERATIONS = {
  printJob: 0x0002,
  getJobAttributes: 0x0009,
  getPrinterAttributes: 0x000b,
} as const;

/** Delimiter tags that open an attribute group. */
export const GROUP_TAGS = {
  operation: 0x01,
  job: 0x02,
  end: 0x03,
  printer: 0x04,
  unsupported: 0x05,
} as const;
export type GroupName = Exclude<keyof typeof GROUP_TAGS, 'end'>;

/** Value tags (RFC 8010 §3.5.2). */
export const VALUE_TAGS = {
  unsupported: 0x10,
  unknown: 0x12,
  noValue: 0x13,
  integer: 0x21,
  boolean: 0x22,
  enum: 0x23,
  octetString: 0x30,
  dateTime: 0x31,
  resolution: 0x32,
  rangeOfInteger: 0x33,
  begCollection: 0x34,
  textWithLanguage: 0x35,
  nameWithLanguage: 0x36,
  endCollection: 0x37,
  textWithoutLanguage: 0x41,
  nameWithoutLanguage: 0x42,
  keyword: 0x44,
  uri: 0x45,
  uriScheme: 0x46,
  charset: 0x47,
  naturalLanguage: 0x48,
  mimeMediaType: 0x49,
  memberAttrName: 0x4a,
} as const;

export type IppValue =
  | string
  | number
  | boolean
  | null
  | { lower: number; upper: number }
  | { x: number; y: number; units: 'dpi' | 'dpcm' }
  | IppCollection;
export interface IppCollection {
  [member: string]: IppValue[];
}

export interface IppGroup {
  name: GroupName | `tag-${number}`;
  attributes: Map<string, IppValue[]>;
}

export interface IppResponse {
  version: string;
  /** The status code (0x0000-0x00ff success, 0x04xx client error, 0x05xx server error). */
  status: number;
  requestId: number;
  groups: IppGroup[];
}

/** One attribute of a request: the value tag names how each value is written. */
export interface OutAttribute {
  tag:
    | 'integer'
    | 'enum'
    | 'boolean'
    | 'keyword'
    | 'uri'
    | 'charset'
    | 'naturalLanguage'
    | 'mimeMediaType'
    | 'nameWithoutLanguage';
  name: string;
  values: (string | number | boolean)[];
}

export class IppCodecError extends Error {
  override name = 'IppCodecError';
}

export function encodeRequest(req: {
  operation: number;
  requestId: number;
  groups: { name: GroupName; attributes: OutAttribute[] }[];
  data?: Buffer;
}): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(8);
  head.writeUInt8(2, 0); // IPP/2.0 (IPP Everywhere); CUPS and ippeveprinter answer in kind
  head.writeUInt8(0, 1);
  head.writeUInt16BE(req.operation, 2);
  head.writeUInt32BE(req.requestId, 4);
  parts.push(head);
  for (const group of req.groups) {
    parts.push(Buffer.from([GROUP_TAGS[group.name]]));
    for (const attr of group.attributes) {
      attr.values.forEach((value, i) => parts.push(encodeValue(attr, i === 0 ? attr.name : '', value)));
    }
  }
  parts.push(Buffer.from([GROUP_TAGS.end]));
  if (req.data) parts.push(req.data);
  return Buffer.concat(parts);
}

function encodeValue(attr: OutAttribute, name: string, value: string | number | boolean): Buffer {
  const tag = VALUE_TAGS[attr.tag];
  let body: Buffer;
  if (attr.tag === 'integer' || attr.tag === 'enum') {
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      throw new IppCodecError(`${attr.name}: ${attr.tag} needs an integer`);
    }
    body = Buffer.alloc(4);
    body.writeInt32BE(value);
  } else if (attr.tag === 'boolean') {
    body = Buffer.from([value ? 1 : 0]);
  } else {
    body = Buffer.from(String(value), 'utf8');
  }
  const nameBuf = Buffer.from(name, 'utf8');
  if (nameBuf.length > 0x7fff || body.length > 0x7fff)
    throw new IppCodecError(`${attr.name}: value too long`);
  const out = Buffer.alloc(1 + 2 + nameBuf.length + 2 + body.length);
  let o = out.writeUInt8(tag, 0);
  o = out.writeUInt16BE(nameBuf.length, o);
  o += nameBuf.copy(out, o);
  o = out.writeUInt16BE(body.length, o);
  body.copy(out, o);
  return out;
}

const GROUP_NAMES = new Map<number, GroupName>(
  Object.entries(GROUP_TAGS)
    .filter(([k]) => k !== 'end')
    .map(([k, v]) => [v, k as GroupName]),
);

/** Decodes a response (or a request: the layout is the same). Throws IppCodecError on a malformed message. */
export function decodeMessage(buf: Buffer): IppResponse {
  if (buf.length < 9) throw new IppCodecError(`an IPP message has at least 9 bytes, got ${buf.length}`);
  const reader = new Reader(buf, 8);
  const groups: IppGroup[] = [];
  let group: IppGroup | undefined;
  // An additional value (empty name) belongs to the attribute named last.
  let lastName = '';
  for (;;) {
    const tag = reader.u8();
    if (tag === GROUP_TAGS.end) break;
    if (tag < 0x10) {
      group = { name: GROUP_NAMES.get(tag) ?? `tag-${tag}`, attributes: new Map() };
      groups.push(group);
      continue;
    }
    if (!group) throw new IppCodecError('an attribute comes before any group');
    const name = reader.str(reader.u16());
    const value = reader.bytes(reader.u16());
    if (name !== '') lastName = name;
    if (lastName === '') throw new IppCodecError('an additional value without an attribute');
    const decoded = tag === VALUE_TAGS.begCollection ? readCollection(reader) : decodeValue(tag, value);
    const list = group.attributes.get(lastName);
    if (name === '' && list) list.push(decoded);
    else group.attributes.set(lastName, [decoded]);
  }
  return {
    version: `${buf[0]}.${buf[1]}`,
    status: buf.readUInt16BE(2),
    requestId: buf.readUInt32BE(4),
    groups,
  };
}

/** The members of a collection, after its begCollection value (RFC 8010 §3.1.6). */
function readCollection(reader: Reader): IppCollection {
  const members: IppCollection = {};
  let member = '';
  for (;;) {
    const tag = reader.u8();
    const name = reader.str(reader.u16());
    const value = reader.bytes(reader.u16());
    if (name !== '') throw new IppCodecError('a collection member value has a name');
    if (tag === VALUE_TAGS.endCollection) return members;
    if (tag === VALUE_TAGS.memberAttrName) {
      member = value.toString('utf8');
      members[member] = [];
      continue;
    }
    const list = members[member];
    if (!list) throw new IppCodecError('a collection value before its member name');
    list.push(tag === VALUE_TAGS.begCollection ? readCollection(reader) : decodeValue(tag, value));
  }
}

function decodeValue(tag: number, v: Buffer): IppValue {
  switch (tag) {
    case VALUE_TAGS.integer:
    case VALUE_TAGS.enum:
      if (v.length !== 4) throw new IppCodecError(`integer of ${v.length} bytes`);
      return v.readInt32BE(0);
    case VALUE_TAGS.boolean:
      return v[0] === 1;
    case VALUE_TAGS.rangeOfInteger:
      if (v.length !== 8) throw new IppCodecError(`rangeOfInteger of ${v.length} bytes`);
      return { lower: v.readInt32BE(0), upper: v.readInt32BE(4) };
    case VALUE_TAGS.resolution:
      if (v.length !== 9) throw new IppCodecError(`resolution of ${v.length} bytes`);
      return { x: v.readInt32BE(0), y: v.readInt32BE(4), units: v[8] === 4 ? 'dpcm' : 'dpi' };
    case VALUE_TAGS.dateTime:
      return decodeDateTime(v);
    case VALUE_TAGS.textWithLanguage:
    case VALUE_TAGS.nameWithLanguage: {
      // language length + language, then text length + text
      const langLen = v.readUInt16BE(0);
      const textLen = v.readUInt16BE(2 + langLen);
      return v.subarray(4 + langLen, 4 + langLen + textLen).toString('utf8');
    }
    case VALUE_TAGS.unsupported:
    case VALUE_TAGS.unknown:
    case VALUE_TAGS.noValue:
      return null;
    default:
      // Text-like tags (and octetString) as UTF-8; unknown tags keep their bytes as text too.
      return v.toString('utf8');
  }
}

function decodeDateTime(v: Buffer): string {
  if (v.length !== 11) throw new IppCodecError(`dateTime of ${v.length} bytes`);
  const pad = (n: number): string => String(n).padStart(2, '0');
  const sign = String.fromCharCode(v[8]!);
  return (
    `${v.readUInt16BE(0)}-${pad(v[2]!)}-${pad(v[3]!)}T${pad(v[4]!)}:${pad(v[5]!)}:${pad(v[6]!)}` +
    `${sign}${pad(v[9]!)}:${pad(v[10]!)}`
  );
}

class Reader {
  constructor(
    private readonly buf: Buffer,
    private pos: number,
  ) {}
  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new IppCodecError('the message is truncated');
  }
  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  str(n: number): string {
    return this.bytes(n).toString('utf8');
  }
}

/** The first value of an attribute in the first group of that name. */
export function attr(res: IppResponse, group: GroupName, name: string): IppValue | undefined {
  return res.groups.find((g) => g.name === group)?.attributes.get(name)?.[0];
}

/** Every value of an attribute in the first group of that name. */
export function attrs(res: IppResponse, group: GroupName, name: string): IppValue[] {
  return res.groups.find((g) => g.name === group)?.attributes.get(name) ?? [];
}
