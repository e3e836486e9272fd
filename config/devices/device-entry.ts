// The shape every device entry shares; each kind adds its own options under its own key.
import { Type, type TLiteral, type TObject, type TOptional, type TString } from '@sinclair/typebox';
import { Identifier } from '../schema-kit.js';
import { TransportRef } from '../transports.js';

type DeviceEntrySchema<K extends string, Key extends string, O extends TObject> = TObject<
  {
    id: typeof Identifier;
    kind: TLiteral<K>;
    name: TOptional<TString>;
    transport: typeof TransportRef;
  } & { [P in Key]: O }
>;

/**
 * A device entry of one kind: `{id, kind, name?, transport, <key>: options}`. The options key may be left out
 * of a file: the loader fills it with the kind's defaults, once, so code never defaults an option again.
 */
export function deviceEntry<const K extends string, const Key extends string, O extends TObject>(
  kind: K,
  key: Key,
  options: O,
): DeviceEntrySchema<K, Key, O> {
  const properties = {
    id: Identifier,
    kind: Type.Literal(kind),
    name: Type.Optional(Type.String({ maxLength: 200, description: 'Label shown to clerks and operators' })),
    transport: TransportRef,
    [key]: { ...options, default: {} },
  } as DeviceEntrySchema<K, Key, O>['properties'];
  return Type.Object(properties, { additionalProperties: false, title: `kind: ${kind}` });
}
