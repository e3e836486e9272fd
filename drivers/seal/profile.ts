// A seal-machine profile: everything vendor-specific about a steel-seal machine (transport parameters,
// framing, checksum, commands, status bits, interlocks) as data, so a new model needs a YAML file, not code.
// Profiles live in config/seal-profiles/; `loadSealProfile` validates one against the schema below and
// then checks what a schema cannot: the checksum's test vectors, the frame limits, distinct reply codes.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type, type Static, type TUnsafe } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { CHECKSUM_ALGORITHMS, makeChecksum, type Checksum } from './checksum.js';

function Enum<const T extends readonly string[]>(
  values: T,
  options: Record<string, unknown> = {},
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

const Hex = (description: string) =>
  Type.String({
    pattern: '^\\s*([0-9A-Fa-f]{2}\\s*)*$',
    description: `${description} (hex bytes, e.g. "A5 5A")`,
  });
const Byte = Type.Integer({ minimum: 0, maximum: 255 });

const Command = Type.Object(
  {
    code: Byte,
    data: Type.Optional(Hex('Fixed data sent after the code')),
    reply: Type.Integer({ minimum: 0, maximum: 255, description: 'Code of the reply that acknowledges it' }),
    timeoutMs: Type.Integer({ minimum: 10, maximum: 120_000 }),
    retrySafe: Type.Boolean({ description: 'May be sent again after a timeout, NAK or garbled reply' }),
  },
  { additionalProperties: false },
);

const Bit = Type.Object(
  {
    byte: Type.Integer({ minimum: 0, maximum: 31, description: 'Index in the status reply data' }),
    bit: Type.Integer({ minimum: 0, maximum: 7 }),
    activeLow: Type.Optional(Type.Boolean({ description: 'The flag is true when the bit is 0' })),
  },
  { additionalProperties: false },
);

export const STATUS_FLAGS = ['documentPresent', 'coverClosed', 'headHome', 'busy'] as const;
export type StatusFlag = (typeof STATUS_FLAGS)[number];

const Conditions = Type.Object(
  {
    documentPresent: Type.Optional(Type.Boolean()),
    coverClosed: Type.Optional(Type.Boolean()),
    headHome: Type.Optional(Type.Boolean()),
    busy: Type.Optional(Type.Boolean()),
    faultCode: Type.Optional(Type.Integer({ minimum: 0, maximum: 255 })),
  },
  { additionalProperties: false, description: 'Status values that must hold' },
);

export const SealProfileSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    description: Type.Optional(Type.String()),
    model: Type.String({ minLength: 1, description: 'Model reported as the device identity' }),
    transport: Type.Object(
      {
        serial: Type.Optional(
          Type.Object(
            {
              baudRate: Type.Integer({ minimum: 50 }),
              dataBits: Type.Union([Type.Literal(7), Type.Literal(8)]),
              parity: Enum(['none', 'even', 'odd'] as const),
              stopBits: Type.Union([Type.Literal(1), Type.Literal(2)]),
            },
            { additionalProperties: false, description: "The vendor's serial settings (for the installer)" },
          ),
        ),
        hid: Type.Optional(
          Type.Object(
            {
              vendorId: Type.Integer({ minimum: 0, maximum: 0xffff }),
              productId: Type.Integer({ minimum: 0, maximum: 0xffff }),
              reportId: Byte,
              reportLength: Type.Integer({ minimum: 8, maximum: 1024 }),
            },
            { additionalProperties: false },
          ),
        ),
      },
      { additionalProperties: false },
    ),
    framing: Type.Object(
      {
        header: Hex('Bytes every frame starts with'),
        length: Type.Object(
          {
            size: Type.Union([Type.Literal(1), Type.Literal(2)]),
            endian: Enum(['big', 'little'] as const),
            counts: Enum(['payload', 'payload+checksum'] as const, {
              description: 'payload = command code + data',
            }),
          },
          { additionalProperties: false },
        ),
        trailer: Hex('Bytes every frame ends with; empty for none'),
        maxFrame: Type.Integer({ minimum: 4, maximum: 65_536, description: 'Longest frame, all bytes' }),
        interByteTimeoutMs: Type.Integer({
          minimum: 1,
          maximum: 10_000,
          description: 'A gap this long inside a frame drops the partial frame (resync)',
        }),
      },
      { additionalProperties: false },
    ),
    checksum: Type.Object(
      {
        algorithm: Enum(CHECKSUM_ALGORITHMS),
        params: Type.Optional(
          Type.Object(
            {
              poly: Type.Optional(Type.Integer({ minimum: 0 })),
              init: Type.Optional(Type.Integer({ minimum: 0 })),
              refIn: Type.Optional(Type.Boolean()),
              refOut: Type.Optional(Type.Boolean()),
              xorOut: Type.Optional(Type.Integer({ minimum: 0 })),
            },
            { additionalProperties: false, description: 'Overrides of the CRC preset' },
          ),
        ),
        covers: Enum(['length+payload', 'header+length+payload'] as const),
        endian: Enum(['big', 'little'] as const),
        vectors: Type.Array(
          Type.Object(
            { data: Hex('Input'), value: Type.Integer({ minimum: 0 }) },
            { additionalProperties: false },
          ),
          { minItems: 1, description: 'Checked at load: a profile whose checksum does not match is refused' },
        ),
      },
      { additionalProperties: false },
    ),
    nak: Type.Object(
      { code: Byte, description: Type.Optional(Type.String()) },
      { additionalProperties: false, description: 'Reply code meaning "frame rejected, nothing done"' },
    ),
    retries: Type.Integer({ minimum: 0, maximum: 10, description: 'Extra attempts of a retry-safe command' }),
    commands: Type.Object(
      {
        status: Command,
        identify: Type.Optional(Command),
        stamp: Command,
        reset: Command,
        selfTest: Command,
      },
      { additionalProperties: false },
    ),
    status: Type.Object(
      {
        documentPresent: Bit,
        coverClosed: Bit,
        headHome: Bit,
        busy: Bit,
        faultCode: Type.Object(
          { byte: Type.Integer({ minimum: 0, maximum: 31 }) },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false, description: 'Where the status reply data holds each flag' },
    ),
    interlocks: Type.Object(
      { beforeStamp: Conditions, afterStamp: Conditions },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type SealProfileDocument = Static<typeof SealProfileSchema>;

const validate = new Ajv({ allErrors: false, strict: false }).compile<SealProfileDocument>(SealProfileSchema);
export type CommandName = keyof SealProfileDocument['commands'];
export type StatusConditions = Static<typeof Conditions>;

/** A validated profile with its hex strings decoded and its checksum built. */
export interface SealProfile extends SealProfileDocument {
  header: Buffer;
  trailer: Buffer;
  checksumFn: Checksum;
  commandData(name: CommandName): Buffer;
}

export class SealProfileError extends Error {
  override name = 'SealProfileError';
}

export function hexBytes(s: string | undefined): Buffer {
  return Buffer.from((s ?? '').replace(/\s+/g, ''), 'hex');
}

/** Validates a parsed profile document; throws SealProfileError naming the field at fault. */
export function parseSealProfile(doc: unknown, source = 'profile'): SealProfile {
  if (!validate(doc)) {
    const first = validate.errors?.[0];
    const extra =
      first?.params && 'additionalProperty' in first.params
        ? `/${String(first.params.additionalProperty)}`
        : '';
    const allowed =
      first?.params && 'allowedValues' in first.params
        ? `: ${(first.params.allowedValues as string[]).join(', ')}`
        : '';
    throw new SealProfileError(
      `${source}: ${(first?.instancePath ?? '') + extra || '/'}: ${first?.message ?? 'invalid'}${allowed}`,
    );
  }
  const p = doc;
  const header = hexBytes(p.framing.header);
  const trailer = hexBytes(p.framing.trailer);
  if (header.length === 0)
    throw new SealProfileError(`${source}: /framing/header: a frame needs a header to resync on`);
  const checksumFn = makeChecksum(p.checksum);
  for (const [i, v] of p.checksum.vectors.entries()) {
    const got = checksumFn.compute(hexBytes(v.data));
    if (got !== v.value) {
      throw new SealProfileError(
        `${source}: /checksum/vectors/${i}: ${p.checksum.algorithm} of ${v.data} is 0x${got.toString(16)}, the profile says 0x${v.value.toString(16)}: the checksum spec is wrong`,
      );
    }
  }
  const overhead = header.length + p.framing.length.size + 1 + checksumFn.size + trailer.length;
  if (p.framing.maxFrame < overhead) {
    throw new SealProfileError(
      `${source}: /framing/maxFrame: ${p.framing.maxFrame} is below the ${overhead}-byte frame overhead`,
    );
  }
  const replies = new Map<number, string>([[p.nak.code, 'nak']]);
  for (const [name, c] of Object.entries(p.commands)) {
    const other = replies.get(c.reply);
    if (other)
      throw new SealProfileError(
        `${source}: /commands/${name}/reply: 0x${c.reply.toString(16)} is also the reply of ${other}`,
      );
    replies.set(c.reply, name);
  }
  return {
    ...p,
    header,
    trailer,
    checksumFn,
    commandData: (name) => hexBytes(p.commands[name]?.data),
  };
}

/** Reads and validates a YAML profile file. */
export function loadSealProfile(file: string): SealProfile {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8')) as unknown;
  } catch (err) {
    throw new SealProfileError(`${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return parseSealProfile(doc, file);
}

/** `config/seal-profiles/` of this installation (found from the source tree and from dist/ alike). */
export function sealProfileDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'config', 'seal-profiles');
    const parent = dirname(dir);
    if (parent === dir) throw new SealProfileError('cannot find config/seal-profiles');
    dir = parent;
  }
}

/** A profile by name (`default` → config/seal-profiles/default.yaml) or by path (contains a `/`). */
export function resolveSealProfile(nameOrPath: string): SealProfile {
  const file = nameOrPath.includes('/') ? nameOrPath : join(sealProfileDir(), `${nameOrPath}.yaml`);
  if (!existsSync(file)) throw new SealProfileError(`seal profile "${nameOrPath}" not found (${file})`);
  return loadSealProfile(file);
}
