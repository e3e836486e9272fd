// The one source of the configuration contract: TypeScript types, validation, defaults and the JSON Schema
// that `npm run schema` exports all come from the TypeBox definitions composed here, one file per section
// (`sections/`), per transport (`transports.ts`) and per device kind (`devices/`).
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { DeviceSchema } from './devices/index.js';
import { TransportSchema } from './transports.js';
import { BoxSection } from './sections/box.js';
import { HttpSection } from './sections/http.js';
import { StorageSection } from './sections/storage.js';
import { MqttSection } from './sections/mqtt.js';
import { LogSection } from './sections/log.js';
import { SupervisionSection } from './sections/supervision.js';
import { FaceSection } from './sections/face.js';
import { BackupSection } from './sections/backup.js';
import { AlertsSection } from './sections/alerts.js';
import { UpdateSection } from './sections/update.js';

export * from './schema-kit.js';
export * from './sections/scopes.js';
export * from './sections/risks.js';
export * from './transports.js';
export * from './devices/index.js';

export const ConfigSchema = Type.Object(
  {
    box: BoxSection,
    http: HttpSection,
    storage: StorageSection,
    mqtt: MqttSection,
    log: LogSection,
    supervision: SupervisionSection,
    devices: Type.Array(DeviceSchema, { default: [] }),
    face: FaceSection,
    backup: BackupSection,
    alerts: AlertsSection,
    update: UpdateSection,
  },
  {
    additionalProperties: false,
    $id: 'https://boxagent.invalid/config.schema.json',
    $defs: { transport: TransportSchema },
    title: 'boxagent configuration',
  },
);

export type FaceConfig = Static<typeof ConfigSchema>['face'];

/** The configuration after defaults are applied. */
export type Config = Static<typeof ConfigSchema>;

/**
 * The schema a config *file* is checked against: the same as ConfigSchema, except that a property with a
 * default is not required (the validator fills it in).
 */
export function fileSchema(schema: TSchema = ConfigSchema): Record<string, unknown> {
  const copy = structuredClone(schema) as Record<string, unknown>;
  relaxDefaulted(copy);
  return copy;
}

function relaxDefaulted(node: unknown): void {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    node.forEach(relaxDefaulted);
    return;
  }
  const obj = node as Record<string, unknown>;
  const props = obj.properties as Record<string, Record<string, unknown>> | undefined;
  if (props && Array.isArray(obj.required)) {
    obj.required = (obj.required as string[]).filter((k) => props[k]?.default === undefined);
    if ((obj.required as string[]).length === 0) delete obj.required;
  }
  Object.values(obj).forEach(relaxDefaulted);
}
