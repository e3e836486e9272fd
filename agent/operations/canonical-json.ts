// RFC 8785 JSON Canonicalization Scheme (JCS): the one byte string a JSON value signs as, whatever language
// the signer is written in. Object members sorted by the UTF-16 code units of their names (recursively), no
// whitespace, numbers as ECMAScript writes them (JSON.stringify does, for finite numbers), strings with only
// `"`, `\` and U+0000–U+001F escaped (\b \t \n \f \r, the rest as lowercase \u00xx) and everything else
// written as itself, so Chinese stays UTF-8, never \uXXXX. Values JCS has no form for are refused.

/** A value has no RFC 8785 form (non-finite number, lone surrogate, not a JSON type). */
export class CanonicalJsonError extends Error {
  constructor(
    message: string,
    /** JSON Pointer of the offending value. */
    readonly path: string,
  ) {
    super(path ? `${path}: ${message}` : message);
    this.name = 'CanonicalJsonError';
  }
}

// An unpaired surrogate is not Unicode (I-JSON, RFC 7493), so it has no UTF-8 bytes to sign.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const pointer = (path: string, key: string | number): string =>
  `${path}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;

function str(s: string, path: string): string {
  if (LONE_SURROGATE.test(s)) throw new CanonicalJsonError('a string holds a lone surrogate', path);
  // JSON.stringify (ES2019+) escapes exactly the characters RFC 8785 §3.2.2.2 escapes, the same way.
  return JSON.stringify(s);
}

function write(v: unknown, path: string): string {
  if (v === null || typeof v === 'boolean') return String(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new CanonicalJsonError(`${v} is not a JSON number`, path);
    // ECMAScript Number-to-String, as RFC 8785 §3.2.2.3 requires (-0 is written 0).
    return JSON.stringify(v);
  }
  if (typeof v === 'string') return str(v, path);
  if (Array.isArray(v)) return `[${v.map((x, i) => write(x, pointer(path, i))).join(',')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    // Array.prototype.sort without a comparator compares UTF-16 code units, as §3.2.3 requires.
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${str(k, path)}:${write(o[k], pointer(path, k))}`).join(',')}}`;
  }
  throw new CanonicalJsonError(`a ${typeof v} is not a JSON value`, path);
}

/** The RFC 8785 canonical JSON text of `v` (sign its UTF-8). Throws CanonicalJsonError. */
export function canonicalJson(v: unknown): string {
  return write(v, '');
}
