// JSON Schema (as the TypeBox declarations of the catalogs produce it) to TypeScript type text, for the served
// client's .d.ts. Only the keywords those declarations use are read; anything else types as `unknown`, which
// is safe. A request's schema comes with its defaulted fields already optional (`requestSchema`); in a request
// an image field (base64 in JSON) also takes a Blob, which the client sends as a file part.

export type JsonSchema = { [keyword: string]: unknown };

export interface EmitOptions {
  direction: 'input' | 'output';
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

const propertyKey = (k: string): string => (IDENTIFIER.test(k) ? k : JSON.stringify(k));

/** Wraps a union or intersection so it can stand before `[]`. */
const atom = (t: string): string => (/^[\w$'"[\]{}<>, ]+$/.test(t) && !/[|&]/.test(t) ? t : `(${t})`);

const docComment = (schema: JsonSchema, indent: string): string => {
  const d = schema.description;
  return typeof d === 'string' ? `${indent}/** ${d.replace(/\*\//g, '*\\/').replace(/\s+/g, ' ')} */\n` : '';
};

const list = (v: unknown): JsonSchema[] => (Array.isArray(v) ? (v as JsonSchema[]) : []);

/** The TypeScript type of `schema`, laid out at `indent`. */
export function schemaToTs(schema: JsonSchema, opts: EmitOptions, indent = ''): string {
  const union = (parts: JsonSchema[], sep: ' | ' | ' & '): string =>
    [...new Set(parts.map((s) => schemaToTs(s, opts, indent)))].map(atom).join(sep) || 'never';
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(' | ') || 'never';
  if (schema.anyOf) return union(list(schema.anyOf), ' | ');
  if (schema.oneOf) return union(list(schema.oneOf), ' | ');
  if (schema.allOf) return union(list(schema.allOf), ' & ');
  if (Array.isArray(schema.type))
    return union(
      (schema.type as string[]).map((type) => ({ type })),
      ' | ',
    );
  switch (schema.type) {
    case 'string':
      return opts.direction === 'input' && schema.contentEncoding === 'base64' ? 'string | Blob' : 'string';
    case 'integer':
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'null':
      return 'null';
    case 'array':
      if (Array.isArray(schema.items)) {
        return `[${list(schema.items)
          .map((s) => schemaToTs(s, opts, indent))
          .join(', ')}]`;
      }
      return schema.items ? `${atom(schemaToTs(schema.items as JsonSchema, opts, indent))}[]` : 'unknown[]';
    case 'object':
      return objectToTs(schema, opts, indent);
    default:
      return 'unknown';
  }
}

function objectToTs(schema: JsonSchema, opts: EmitOptions, indent: string): string {
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set(list(schema.required) as unknown as string[]);
  const inner = `${indent}  `;
  const lines = Object.entries(props).map(([k, s]) => {
    const optional = !required.has(k);
    return `${docComment(s, inner)}${inner}${propertyKey(k)}${optional ? '?' : ''}: ${schemaToTs(s, opts, inner)};`;
  });
  const patterns = Object.values((schema.patternProperties ?? {}) as Record<string, JsonSchema>);
  const extra = schema.additionalProperties;
  const rest =
    patterns.length > 0
      ? patterns.map((s) => schemaToTs(s, opts, inner))
      : typeof extra === 'object' && extra !== null
        ? [schemaToTs(extra as JsonSchema, opts, inner)]
        : extra === false || lines.length > 0
          ? []
          : ['unknown'];
  if (rest.length > 0) {
    // An index signature must admit the named properties too.
    const named = Object.values(props).map((s) => schemaToTs(s, opts, inner));
    const value = [...new Set([...rest, ...named, ...(lines.length > 0 ? ['undefined'] : [])])].join(' | ');
    lines.push(`${inner}[key: string]: ${value};`);
  }
  return lines.length === 0 ? 'Record<string, never>' : `{\n${lines.join('\n')}\n${indent}}`;
}
