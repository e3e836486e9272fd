// Named print templates: YAML files in the package's config/templates/ (one per form). A template is a
// document whose strings may hold {{field}} placeholders; a request names it and gives the field values.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { LayoutDocumentSchema, type LayoutDocument } from '../../drivers/printer/document.js';
import { Problem } from '../problems/problem.js';
import { t } from '../messages/text.js';

const NAME_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;
const PLACEHOLDER_RE = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;

/** The package root (where package.json is), from src/ under vitest or dist/ when built. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

export const TEMPLATES_DIR = join(packageRoot(), 'config', 'templates');

let validator: ValidateFunction | undefined;
function validateDocument(doc: unknown): string | undefined {
  validator ??= new Ajv({ strict: false, useDefaults: true, discriminator: true }).compile(
    LayoutDocumentSchema,
  );
  if (validator(doc)) return undefined;
  const e = validator.errors?.[0];
  return `${e?.instancePath || 'document'} ${e?.message ?? 'is invalid'}`;
}

/** The document a template makes with these field values; a Problem naming what is wrong otherwise. */
export function expandTemplate(
  name: string,
  fields: Record<string, string>,
  copies: number | undefined,
  dir = TEMPLATES_DIR,
): LayoutDocument {
  const file = join(dir, `${name}.yaml`);
  if (!NAME_RE.test(name) || !existsSync(file)) {
    throw new Problem('unknown-template', t`no print template "${name}"`, ['document', 'template']);
  }
  const raw = parse(readFileSync(file, 'utf8')) as {
    page?: unknown;
    items?: unknown;
    copies?: number;
  };
  const missing = new Set<string>();
  const fill = (v: unknown): unknown => {
    if (typeof v === 'string') {
      return v.replace(PLACEHOLDER_RE, (_m, key: string) => {
        const value = fields[key];
        if (value === undefined) missing.add(key);
        return value ?? '';
      });
    }
    if (Array.isArray(v)) return v.map(fill);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x)]));
    }
    return v;
  };
  const doc = { page: raw.page, items: fill(raw.items), copies: copies ?? raw.copies ?? 1 };
  const first = [...missing][0];
  if (first !== undefined) {
    throw new Problem('invalid-request', t`template "${name}" needs field "${first}"`, [
      'document',
      'fields',
      first,
    ]);
  }
  const bad = validateDocument(doc);
  if (bad) {
    throw new Problem('unprintable-document', t`template "${name}" is not a valid document: ${bad}`, [
      'document',
      'template',
    ]);
  }
  return doc as LayoutDocument;
}
