// Small TypeBox helpers the config sections share.
import { Type, type Static, type TObject, type TUnion, type TUnsafe } from '@sinclair/typebox';

/** A string enum as plain JSON Schema `enum` (clearer errors and docs than TypeBox's union of literals). */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: Record<string, unknown> = {},
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

/** A name: letters, digits, `-` and `_` (box ids, device ids). */
export const Identifier = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$',
  description: 'Letters, digits, - and _',
});

/**
 * A union told apart by one field (`type` unless named), as JSON Schema `oneOf` + `discriminator`: the
 * validator then names the unknown tag or the wrong field of the right branch, instead of listing every
 * branch's complaint (and fills defaults inside the chosen branch).
 */
export function TaggedUnion<T extends TObject[]>(
  branches: [...T],
  options: Record<string, unknown> = {},
  propertyName = 'type',
): TUnsafe<Static<TUnion<T>>> {
  return Type.Unsafe<Static<TUnion<T>>>({
    oneOf: branches,
    discriminator: { propertyName },
    ...options,
  });
}
