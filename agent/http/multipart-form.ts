// multipart/form-data for operations that carry images: the same input as their JSON body, with dotted
// field names (`probe.image`, `reference.personId`, `images.0.image`) and the images sent as file parts.
// A file part becomes the base64 string the JSON body would carry, so the operation cannot tell the two
// apart; plain fields are text and are coerced by the operation's schema like a query string.
import type { Readable } from 'node:stream';
import { Busboy, type BusboyHeaders } from '@fastify/busboy';
import type { TSchema } from '@sinclair/typebox';
import { Problem } from '../problems/problem.js';
import { t } from '../messages/text.js';

/** The input assembled from a form; the HTTP adapter validates it with text coercion. */
export class FormInput {
  constructor(readonly fields: Record<string, unknown>) {}
}

export interface FormRules {
  /** Field paths that take an image file, array indices written `*` (`probe.image`, `images.*.image`). */
  imagePaths: ReadonlySet<string>;
  /** Total bytes of all parts (the operation's body limit). */
  limitBytes: number;
}

/** Paths of the image fields (schemas with contentEncoding base64) in an operation's input schema. */
export function imageFieldPaths(schema: TSchema, prefix: string[] = []): string[] {
  if (schema.type === 'string' && schema.contentEncoding === 'base64') return [prefix.join('.')];
  const found: string[] = [];
  const props = schema.properties as Record<string, TSchema> | undefined;
  if (props) for (const [k, s] of Object.entries(props)) found.push(...imageFieldPaths(s, [...prefix, k]));
  if (schema.items && typeof schema.items === 'object' && !Array.isArray(schema.items))
    found.push(...imageFieldPaths(schema.items as TSchema, [...prefix, '*']));
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const list = schema[key] as TSchema[] | undefined;
    if (Array.isArray(list)) for (const s of list) found.push(...imageFieldPaths(s, prefix));
  }
  return found;
}

const SEGMENT = /^[A-Za-z_][A-Za-z0-9_]{0,63}$|^[0-9]{1,2}$/;
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_PARTS = 64;

/** Reads the whole form from `body`, or rejects with a problem (400 malformed, 413 too large, 400 field). */
export function readForm(body: Readable, headers: BusboyHeaders, rules: FormRules): Promise<FormInput> {
  return new Promise((resolve, reject) => {
    const fields: Record<string, unknown> = {};
    const pending: Promise<void>[] = [];
    let total = 0;
    let failed = false;
    const fail = (problem: Problem): void => {
      if (failed) return;
      failed = true;
      // Read the rest and drop it, so the client gets the answer instead of a reset while still sending.
      body.unpipe();
      body.resume();
      reject(problem);
    };
    const tooLarge = (): void =>
      fail(new Problem('payload-too-large', t`the form is larger than ${rules.limitBytes} bytes`));
    const count = (n: number): boolean => {
      total += n;
      if (total > rules.limitBytes) tooLarge();
      return !failed;
    };

    let parser: ReturnType<typeof Busboy>;
    try {
      parser = Busboy({
        headers,
        limits: {
          fileSize: rules.limitBytes,
          fieldSize: rules.limitBytes,
          fieldNameSize: 200,
          parts: MAX_PARTS,
        },
      });
    } catch (err) {
      fail(malformed(err));
      return;
    }

    parser.on('field', (name, value, _nameTruncated, valueTruncated) => {
      if (failed) return;
      if (valueTruncated) return tooLarge();
      if (!count(Buffer.byteLength(name) + Buffer.byteLength(value))) return;
      place(fields, name, value, rules, false, fail);
    });
    parser.on('file', (name, stream) => {
      if (failed) {
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('limit', tooLarge);
      stream.on('data', (chunk: Buffer) => {
        if (count(chunk.length)) chunks.push(chunk);
      });
      pending.push(
        new Promise((done) => {
          stream.on('end', () => {
            if (!failed) place(fields, name, Buffer.concat(chunks).toString('base64'), rules, true, fail);
            done();
          });
          // A cut-off form errors the open file part too; unhandled, that would end the process.
          stream.on('error', (err) => {
            fail(malformed(err));
            done();
          });
        }),
      );
    });
    parser.on('partsLimit', () =>
      fail(new Problem('invalid-request', t`a form may have at most ${MAX_PARTS} parts`)),
    );
    parser.on('error', (err) => fail(malformed(err)));
    parser.on('finish', () => {
      void Promise.all(pending).then(() => {
        if (!failed) resolve(new FormInput(fields));
      });
    });
    body.on('error', (err) => fail(malformed(err)));
    body.pipe(parser);
  });
}

function malformed(err: unknown): Problem {
  const why = err instanceof Error ? err.message : String(err);
  return new Problem('malformed-multipart', t`the multipart/form-data body cannot be read (${why})`);
}

/** Puts one part's value at its dotted path; a file only where the schema takes an image. */
function place(
  fields: Record<string, unknown>,
  name: string,
  value: string,
  rules: FormRules,
  isFile: boolean,
  fail: (p: Problem) => void,
): void {
  const segments = name.split('.');
  // The failing field as keys; list indices as numbers, as the input object holds them.
  const field = segments.map((s) => (/^[0-9]+$/.test(s) ? Number(s) : s));
  if (segments.some((s) => !SEGMENT.test(s) || FORBIDDEN.has(s))) {
    return fail(new Problem('invalid-request', t`"${name}" is not a field name of this operation`, field));
  }
  if (isFile && !rules.imagePaths.has(segments.map((s) => (/^[0-9]+$/.test(s) ? '*' : s)).join('.'))) {
    return fail(new Problem('invalid-request', t`"${name}" does not take a file`, field));
  }
  let node: Record<string, unknown> | unknown[] = fields;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const key: string | number = Array.isArray(node) ? Number(seg) : seg;
    if (Array.isArray(node) && !/^[0-9]+$/.test(seg)) {
      return fail(new Problem('invalid-request', t`"${name}": a list index must be a number`, field));
    }
    const existing = (node as Record<string | number, unknown>)[key];
    if (i === segments.length - 1) {
      if (existing !== undefined) {
        return fail(new Problem('invalid-request', t`"${name}" is given more than once`, field));
      }
      (node as Record<string | number, unknown>)[key] = value;
      return;
    }
    if (existing === undefined) {
      const child = /^[0-9]+$/.test(segments[i + 1]!) ? [] : {};
      (node as Record<string | number, unknown>)[key] = child;
      node = child;
    } else if (typeof existing === 'object' && existing !== null) {
      node = existing as Record<string, unknown> | unknown[];
    } else {
      return fail(new Problem('invalid-request', t`"${name}" conflicts with another field`, field));
    }
  }
}
