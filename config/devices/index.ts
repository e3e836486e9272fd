// The device entries of the config, one per kind. A new kind adds its file beside these and one line to
// DEVICE_ENTRIES; the agent's list of kinds (agent/kinds/) is keyed by the kinds named here, so the compiler
// then asks for its descriptor too.
import { Value } from '@sinclair/typebox/value';
import type { Static } from '@sinclair/typebox';
import { TaggedUnion } from '../schema-kit.js';
import type { TransportConfig } from '../transports.js';
import { CameraDeviceSchema } from './camera.js';
import { IdCardDeviceSchema } from './idcard.js';
import { PhotoPrinterDeviceSchema } from './photo-printer.js';
import { PrinterDeviceSchema } from './printer.js';
import { RatingPadDeviceSchema } from './rating-pad.js';
import { SealDeviceSchema } from './seal.js';

const DEVICE_ENTRIES = [
  PrinterDeviceSchema,
  CameraDeviceSchema,
  SealDeviceSchema,
  PhotoPrinterDeviceSchema,
  IdCardDeviceSchema,
  RatingPadDeviceSchema,
] as const;

/** A device entry, told apart by `kind`. */
export const DeviceSchema = TaggedUnion([...DEVICE_ENTRIES], {}, 'kind');
export type DeviceConfig = Static<typeof DeviceSchema>;
export type DeviceKind = DeviceConfig['kind'];
/** The entry of a device of kind K, its options filled in. */
export type DeviceConfigOf<K extends DeviceKind> = Extract<DeviceConfig, { kind: K }>;

export const DEVICE_KINDS: readonly DeviceKind[] = DEVICE_ENTRIES.map((e) => e.properties.kind.const);

/** A device entry as written by hand: its kind's options may be left out or given in part. */
export type DeviceInput<K extends DeviceKind = DeviceKind> = {
  id: string;
  kind: K;
  name?: string;
  transport: TransportConfig;
} & Record<string, unknown>;

/**
 * A device entry with its kind's option defaults filled in, for entries made in code rather than loaded
 * from a file (tests, tools). Loaded configs already have them.
 */
export function withDeviceDefaults<K extends DeviceKind>(entry: DeviceInput<K>): DeviceConfigOf<K> {
  const schema = DEVICE_ENTRIES.find((e) => e.properties.kind.const === entry.kind);
  if (!schema) throw new Error(`unknown device kind "${entry.kind}"`);
  return Value.Default(schema, structuredClone(entry)) as DeviceConfigOf<K>;
}

export * from './camera.js';
export * from './idcard.js';
export * from './photo-printer.js';
export * from './printer.js';
export * from './rating-pad.js';
export * from './seal.js';
