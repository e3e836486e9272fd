// Certificate templates: YAML files in the package's config/certificate-templates/. A template is a page
// in mm, one photo box and text lines at mm positions; `{{field}}` placeholders in the texts are the
// request's required fields.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { Problem } from '../problems/problem.js';
import { TEMPLATES_DIR } from '../printing/templates.js';
import { t } from '../messages/text.js';

export const CERTIFICATE_TEMPLATES_DIR = join(TEMPLATES_DIR, '..', 'certificate-templates');

const NAME_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;
const PLACEHOLDER_RE = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;
const Colour = Type.String({ pattern: '^#[0-9a-fA-F]{6}$' });
const Mm = Type.Number({ minimum: 0, maximum: 500 });

export const CertificateTemplateSchema = Type.Object(
  {
    title: Type.String({ minLength: 1 }),
    page: Type.Object(
      { widthMm: Mm, heightMm: Mm, background: Type.Optional(Colour) },
      { additionalProperties: false },
    ),
    photo: Type.Object({ xMm: Mm, yMm: Mm, widthMm: Mm, heightMm: Mm }, { additionalProperties: false }),
    texts: Type.Array(
      Type.Object(
        {
          xMm: Mm,
          yMm: Mm,
          text: Type.String({ minLength: 1 }),
          sizePt: Type.Number({ minimum: 3, maximum: 72 }),
          bold: Type.Optional(Type.Boolean()),
          color: Type.Optional(Colour),
          maxWidthMm: Type.Optional(Mm),
        },
        { additionalProperties: false },
      ),
    ),
    numberField: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);
export type CertificateTemplate = Static<typeof CertificateTemplateSchema>;

let validator: ValidateFunction | undefined;

/** Loads a template by name; a Problem when there is no such template or the file is not valid. */
export function loadCertificateTemplate(name: string, dir = CERTIFICATE_TEMPLATES_DIR): CertificateTemplate {
  const file = join(dir, `${name}.yaml`);
  if (!NAME_RE.test(name) || !existsSync(file)) {
    throw new Problem('unknown-template', t`no certificate template "${name}"`, ['template']);
  }
  const raw = parse(readFileSync(file, 'utf8')) as unknown;
  validator ??= new Ajv({ strict: false }).compile(CertificateTemplateSchema);
  if (!validator(raw)) {
    const e = validator.errors?.[0];
    throw new Problem(
      'unprintable-document',
      t`certificate template "${name}" is not valid: ${e?.instancePath || '/'} ${e?.message ?? ''}`,
      ['template'],
    );
  }
  return raw as CertificateTemplate;
}

/** The fields a template needs, in the order they first appear. */
export function requiredFields(template: CertificateTemplate): string[] {
  const names = new Set<string>();
  for (const line of template.texts) for (const m of line.text.matchAll(PLACEHOLDER_RE)) names.add(m[1]!);
  return [...names];
}

/**
 * Checks the request's fields against the template: every placeholder given (non-empty), no unknown
 * field. Problems name the field.
 */
export function checkFields(
  template: CertificateTemplate,
  name: string,
  fields: Record<string, string>,
): void {
  const needed = requiredFields(template);
  for (const f of needed) {
    if (fields[f] === undefined || fields[f].trim() === '') {
      throw new Problem(
        'invalid-request',
        t`certificate template "${name}" needs field "${f}" (fields: ${needed.join(', ')})`,
        ['fields', f],
      );
    }
  }
  for (const f of Object.keys(fields)) {
    if (!needed.includes(f)) {
      throw new Problem(
        'invalid-request',
        t`certificate template "${name}" has no field "${f}" (fields: ${needed.join(', ')})`,
        ['fields', f],
      );
    }
  }
}

export function fillText(text: string, fields: Record<string, string>): string {
  return text.replace(PLACEHOLDER_RE, (_m, key: string) => fields[key] ?? '');
}
