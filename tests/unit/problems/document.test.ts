// The one mapping from a thrown error to the problem document HTTP, fleet RPC and the CLI send: a service's
// Problem keeps its code and names its field as a JSON pointer; a full state disk is a 507
// insufficient-storage problem wherever it surfaces (node:fs or SQLite); any other error is a 500 internal.
import { describe, expect, it } from 'vitest';
import { problemFromError } from '../../../agent/http/problem-reply.js';
import { asProblem, problemDocument } from '../../../agent/problems/document.js';
import { jsonPointer, pointerPath } from '../../../agent/problems/json-pointer.js';
import { Problem } from '../../../agent/problems/problem.js';
import { t, verbatim } from '../../../agent/messages/text.js';

const withCode = (code: string): Error => Object.assign(new Error(`failed: ${code}`), { code });

describe('problem documents', () => {
  it('carry the code as a type URN, the registry title and status, the detail and the field as a pointer', () => {
    const thrown = new Problem(
      'unprintable-document',
      verbatim('line 4 is too wide'),
      ['document', 'lines', 3],
      {
        reason: 'overflow',
      },
    );
    expect(problemDocument(thrown)).toEqual({
      type: 'urn:boxagent:problem:unprintable-document',
      title: 'The document cannot be printed as asked',
      status: 422,
      detail: 'line 4 is too wide',
      field: '/document/lines/3',
      reason: 'overflow',
    });
  });

  it('render title and detail in the locale asked for, English when none is', () => {
    const p = new Problem('not-found', t`no device "${'printer-9'}"`, ['id']);
    expect(problemDocument(p)).toMatchObject({ title: 'No such resource', detail: 'no device "printer-9"' });
    expect(problemDocument(p, 'zh-CN')).toMatchObject({
      type: 'urn:boxagent:problem:not-found',
      title: '找不到所请求的对象',
      detail: '没有设备“printer-9”',
    });
  });

  it('leave out detail and field when the problem has none', () => {
    expect(problemDocument(new Problem('not-ready'))).toEqual({
      type: 'urn:boxagent:problem:not-ready',
      title: 'The agent is not ready',
      status: 503,
    });
  });

  it('name a request header by its name, not as a pointer', () => {
    const p = new Problem('idempotency-key-reused', verbatim('used before'), {
      header: 'Idempotency-Key',
    });
    expect(problemDocument(p).field).toBe('Idempotency-Key');
  });

  it('escape keys as RFC 6901 says, and read pointers back into the same keys', () => {
    expect(jsonPointer(['fields', 'a/b~c', 0])).toBe('/fields/a~1b~0c/0');
    expect(jsonPointer([])).toBe('');
    expect(pointerPath('/fields/a~1b~0c/0')).toEqual(['fields', 'a/b~c', 0]);
    expect(pointerPath('/items/01')).toEqual(['items', '01']);
  });
});

describe('storage-full errors', () => {
  it.each(['ENOSPC', 'EDQUOT', 'SQLITE_FULL'])(
    'map %s to 507 insufficient-storage with Retry-After',
    (code) => {
      expect(problemDocument(withCode(code))).toMatchObject({
        type: 'urn:boxagent:problem:insufficient-storage',
        status: 507,
        retryAfter: 30,
      });
      // The HTTP adapter's framework-error step hands the same errors on to the shared mapping.
      expect(problemFromError(withCode(code)).code).toBe('insufficient-storage');
    },
  );

  it('leave other errors as 500 internal', () => {
    expect(asProblem(withCode('EACCES')).code).toBe('internal');
    expect(asProblem(null).code).toBe('internal');
    expect(problemDocument(withCode('SQLITE_CORRUPT'))).toMatchObject({
      type: 'urn:boxagent:problem:internal',
      status: 500,
    });
    expect(problemFromError(withCode('SQLITE_CORRUPT')).code).toBe('internal');
  });
});
