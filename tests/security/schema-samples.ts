// Request bodies for fuzzing, made from an operation's JSON Schema: valid-shaped samples (what a careless but
// honest client sends) and hostile ones (wrong types, huge strings, deep nesting, prototype-pollution keys,
// path traversal, control characters). A seeded generator makes every run repeatable.

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Schema = Record<string, unknown>;

export const HOSTILE_STRINGS: readonly string[] = [
  '',
  '../../../../etc/passwd',
  '..%2F..%2Fetc%2Fpasswd',
  '/etc/shadow',
  'C:\\Windows\\win.ini',
  'a\u0000b',
  '\u202e\u0000\uffff\ud800',
  "' OR 1=1 --",
  '<script>alert(1)</script>',
  '${jndi:ldap://x}',
  '{{constructor.constructor("return process")()}}',
  '__proto__',
  'x'.repeat(70_000),
  '张'.repeat(5_000),
  '𠀀𪚥'.repeat(100),
  '-1',
  'NaN',
  '1e309',
  'data:image/png;base64,AAAA',
];

const HOSTILE_VALUES: readonly Json[] = [
  null,
  true,
  -1,
  0,
  1e308,
  -1e308,
  2 ** 53 + 1,
  0.5,
  [],
  {},
  [[[[]]]],
  ...HOSTILE_STRINGS,
];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)] as T;
}

/** A value the schema accepts, as far as a generator without pattern support can tell. */
export function validSample(schema: Schema, r: () => number, depth = 0): Json {
  if (Array.isArray(schema.enum)) return pick(r, schema.enum as Json[]);
  if ('const' in schema) return schema.const as Json;
  const branches = (schema.oneOf ?? schema.anyOf) as Schema[] | undefined;
  if (branches) return validSample(pick(r, branches), r, depth);
  if (Array.isArray(schema.allOf)) {
    return Object.assign({}, ...(schema.allOf as Schema[]).map((s) => validSample(s, r, depth))) as Json;
  }
  switch (schema.type) {
    case 'object': {
      const props = (schema.properties ?? {}) as Record<string, Schema>;
      const required = new Set((schema.required ?? []) as string[]);
      const out: Record<string, Json> = {};
      for (const [k, v] of Object.entries(props)) {
        if (required.has(k) || (depth < 4 && r() < 0.5)) out[k] = validSample(v, r, depth + 1);
      }
      return out;
    }
    case 'array': {
      const min = (schema.minItems as number | undefined) ?? 0;
      const n = min + Math.floor(r() * 3);
      const items = (schema.items ?? {}) as Schema;
      return depth > 5 ? [] : Array.from({ length: n }, () => validSample(items, r, depth + 1));
    }
    case 'integer':
    case 'number': {
      const min = (schema.minimum as number | undefined) ?? 0;
      const max = (schema.maximum as number | undefined) ?? min + 100;
      const v = min + r() * (max - min);
      return schema.type === 'integer' ? Math.round(v) : v;
    }
    case 'boolean':
      return r() < 0.5;
    case 'string': {
      if (schema.format === 'date-time') return new Date(Math.floor(r() * 2e12)).toISOString();
      const min = (schema.minLength as number | undefined) ?? 0;
      const max = Math.min((schema.maxLength as number | undefined) ?? 24, 24);
      const n = Math.max(min, Math.floor(r() * (max + 1)));
      const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789-_张王李';
      return Array.from({ length: n }, () => pick(r, [...alphabet])).join('');
    }
    default:
      return 'x';
  }
}

/** Deeply nested arrays: a JSON body that is small but deep. */
export function deepNesting(levels: number): string {
  return '['.repeat(levels) + ']'.repeat(levels);
}

/** A valid-shaped body with one field replaced by a hostile value, or a hostile key added. */
export function hostileSample(schema: Schema, r: () => number): Json {
  const base = validSample(schema, r);
  if (base === null || typeof base !== 'object' || Array.isArray(base)) return pick(r, HOSTILE_VALUES);
  const keys = Object.keys(base);
  const roll = r();
  if (roll < 0.15) return { ...base, __proto__x: 1, constructor: { prototype: { polluted: true } } };
  if (roll < 0.25) {
    // A literal "__proto__" own key, as JSON.parse makes it.
    const rest = JSON.stringify(base).slice(1);
    return JSON.parse(`{"__proto__": {"polluted": true}${rest === '}' ? '' : ','} ${rest}`) as Json;
  }
  if (roll < 0.35 || keys.length === 0) return { ...base, [pick(r, HOSTILE_STRINGS).slice(0, 40) || 'k']: 1 };
  const key = pick(r, keys);
  return { ...base, [key]: pick(r, HOSTILE_VALUES) };
}
