// Input validation for operations, shared by every adapter so a bad request gets the same answer everywhere.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { AnyOperation } from './operation.js';
import { pointerPath } from '../problems/json-pointer.js';
import { Problem, type FieldPath } from '../problems/problem.js';
import { t, verbatim, type Text } from '../messages/text.js';

// Inputs from a URL (path and query) are text: those validators coerce "5" to 5. Bodies are JSON and are not
// coerced, so a wrong type in a body is an error.
// discriminator: a TaggedUnion (e.g. print document items) is checked against the branch its `type` names.
const strict = new Ajv({ allErrors: false, strict: false, useDefaults: true, discriminator: true });
const coercing = new Ajv({
  allErrors: false,
  strict: false,
  useDefaults: true,
  coerceTypes: 'array',
  discriminator: true,
});
addFormats.default(strict);
addFormats.default(coercing);

// One cache per flavour: an operation validated from a URL must not hand its coercing validator to a body.
const strictCache = new WeakMap<AnyOperation, ValidateFunction>();
const coercingCache = new WeakMap<AnyOperation, ValidateFunction>();

export function inputValidator(op: AnyOperation, fromUrl: boolean): ValidateFunction {
  const cache = fromUrl ? coercingCache : strictCache;
  let v = cache.get(op);
  if (!v) {
    v = (fromUrl ? coercing : strict).compile(op.input);
    cache.set(op, v);
  }
  return v;
}

/** Validates (and fills defaults into) `input`, or throws an `invalid-request` problem naming the field. */
export function validateInput(op: AnyOperation, input: Record<string, unknown>, fromUrl: boolean): void {
  const validate = inputValidator(op, fromUrl);
  if (!validate(input)) throw toProblem(validate.errors?.[0]);
}

function toProblem(e: ErrorObject | undefined): Problem {
  if (!e) return new Problem('invalid-request');
  const at = pointerPath(e.instancePath);
  let field: FieldPath = at;
  // Ajv's own wording stays as it is (verbatim); the common cases get catalog texts.
  let detail: Text = verbatim(`${e.instancePath || 'input'} ${e.message ?? 'is invalid'}`);
  if (e.keyword === 'additionalProperties') {
    const extra = String((e.params as { additionalProperty: string }).additionalProperty);
    field = [...at, extra];
    detail = t`unknown field "${extra}"`;
  } else if (e.keyword === 'required') {
    const missing = String((e.params as { missingProperty: string }).missingProperty);
    field = [...at, missing];
    detail = t`"${missing}" is required`;
  } else if (e.keyword === 'discriminator') {
    // A tagged union (e.g. a print document item) with a missing or unknown `type`.
    const { tag, tagValue } = e.params as { tag: string; tagValue: unknown };
    field = [...at, tag];
    detail = tagValue === undefined ? t`"${tag}" is required` : t`unknown ${tag} ${JSON.stringify(tagValue)}`;
  } else if (e.keyword === 'enum' || e.keyword === 'const') {
    const allowed = (e.params as { allowedValues?: unknown[]; allowedValue?: unknown }).allowedValues ?? [
      (e.params as { allowedValue?: unknown }).allowedValue,
    ];
    detail = t`${e.instancePath || 'input'} must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`;
  }
  return new Problem('invalid-request', detail, field.length > 0 ? field : undefined);
}

const bodyCache = new WeakMap<object, ValidateFunction>();

/** Validates a JSON body against a schema outside the catalog (routes that are not operations), same answers. */
export function validateBody(schema: object, body: unknown): void {
  let validate = bodyCache.get(schema);
  if (!validate) bodyCache.set(schema, (validate = strict.compile(schema)));
  if (!validate(body)) throw toProblem(validate.errors?.[0]);
}
