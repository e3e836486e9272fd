// A full state disk is a 507 insufficient-storage problem wherever it surfaces (node:fs or SQLite), for HTTP
// and fleet RPC alike; any other unknown error stays a 500 internal.
import { describe, expect, it } from 'vitest';
import { problemFromError } from '../../../agent/http/problem-reply.js';
import { storageFullProblem } from '../../../agent/operations/problems.js';

const withCode = (code: string): Error => Object.assign(new Error(`failed: ${code}`), { code });

describe('storage-full errors', () => {
  it.each(['ENOSPC', 'EDQUOT', 'SQLITE_FULL'])(
    'map %s to 507 insufficient-storage with Retry-After',
    (code) => {
      const problem = problemFromError(withCode(code));
      expect(problem.toJSON()).toMatchObject({
        type: 'urn:boxagent:problem:insufficient-storage',
        status: 507,
        retryAfter: 30,
      });
      expect(storageFullProblem(withCode(code))?.code).toBe('insufficient-storage');
    },
  );

  it('leave other errors alone', () => {
    expect(storageFullProblem(withCode('EACCES'))).toBeUndefined();
    expect(storageFullProblem(null)).toBeUndefined();
    expect(problemFromError(withCode('SQLITE_CORRUPT')).code).toBe('internal');
  });
});
