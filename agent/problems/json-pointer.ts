// RFC 6901 JSON pointers, the wire form of a problem's failing field. Services name fields as key paths;
// only the problem mapping writes pointers, and only code that receives one from elsewhere (Ajv, a
// driver's LayoutError) reads one.
import type { FieldPath } from './problem.js';

/** `['images', 0, 'a/b']` → `/images/0/a~1b`; the empty path (the whole input) is `""`. */
export function jsonPointer(path: FieldPath): string {
  return path.map((key) => '/' + String(key).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

/** `/images/0/a~1b` → `['images', 0, 'a/b']`: array indices become numbers. */
export function pointerPath(pointer: string): FieldPath {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9]\d*)$/.test(s) ? Number(s) : s));
}
