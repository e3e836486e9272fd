// JSON Schemas as the OpenAPI document shows them: plain JSON (no TypeBox metadata), and for requests with
// every field the server fills from its `default` left out of `required`, so a generated client may omit it.
import type { TSchema } from '@sinclair/typebox';

export type JsonSchema = Record<string, unknown>;

/** Strips TypeBox's symbol-keyed metadata: the document must be plain JSON Schema. */
export function plain(schema: TSchema): JsonSchema {
  return JSON.parse(JSON.stringify(schema)) as JsonSchema;
}

const isSchema = (v: unknown): v is JsonSchema => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The schema of a request: a copy where a property with a `default` is not required, wherever the server's
 * validator (Ajv `useDefaults`) fills it in — under `properties`, `items`, `additionalProperties`, `allOf` and the
 * branches of a `oneOf` with a `discriminator`. Ajv ignores defaults inside `anyOf`, a plain `oneOf`, `not` and `if`, so there a
 * required field stays required (the caller really must send it).
 */
export function requestSchema(schema: JsonSchema): JsonSchema {
  return relax(schema, true);
}

function relax(schema: JsonSchema, filled: boolean): JsonSchema {
  const out: JsonSchema = { ...schema };
  const props = isSchema(schema.properties) ? schema.properties : undefined;
  if (props) {
    out.properties = Object.fromEntries(
      Object.entries(props).map(([k, s]) => [k, isSchema(s) ? relax(s, filled) : s]),
    );
    if (filled && Array.isArray(schema.required)) {
      out.required = (schema.required as string[]).filter(
        (k) => !(isSchema(props[k]) && 'default' in props[k]),
      );
    }
  }
  if (isSchema(schema.items)) out.items = relax(schema.items, filled);
  if (isSchema(schema.additionalProperties)) {
    out.additionalProperties = relax(schema.additionalProperties, filled);
  }
  const discriminated = isSchema(schema.discriminator);
  for (const key of ['oneOf', 'anyOf', 'allOf'] as const) {
    const list = schema[key];
    if (!Array.isArray(list)) continue;
    const branchesFilled = filled && (key === 'allOf' || (key === 'oneOf' && discriminated));
    out[key] = list.map((s: unknown) => (isSchema(s) ? relax(s, branchesFilled) : s));
  }
  return out;
}

/** Paths (`/document/items/*\/bold`) of request properties that have a default yet stay required. */
export function requiredWithDefault(schema: JsonSchema, at = ''): string[] {
  const found: string[] = [];
  const props = isSchema(schema.properties) ? schema.properties : {};
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
  for (const [k, s] of Object.entries(props)) {
    if (!isSchema(s)) continue;
    if (required.includes(k) && 'default' in s) found.push(`${at}/${k}`);
    found.push(...requiredWithDefault(s, `${at}/${k}`));
  }
  if (isSchema(schema.items)) found.push(...requiredWithDefault(schema.items, `${at}/*`));
  for (const key of ['oneOf', 'anyOf', 'allOf'] as const) {
    const list = schema[key];
    if (Array.isArray(list)) for (const s of list) if (isSchema(s)) found.push(...requiredWithDefault(s, at));
  }
  return found;
}
