// The one atomic write every state and config file goes through: the new content replaces the old in one
// step, nothing is left beside it, and "create only if absent" never overwrites another process's file.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../../config/atomic-write.js';

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  it('replaces the content, 0600 by default, with no temp file left behind', () => {
    dir = mkdtempSync(join(tmpdir(), 'boxagent-atomic-'));
    const file = join(dir, 'fleet-config.json');
    writeFileSync(file, 'old');
    writeFileAtomic(file, '{"version": 2}\n');
    expect(readFileSync(file, 'utf8')).toBe('{"version": 2}\n');
    writeFileAtomic(join(dir, 'new.bin'), Buffer.from([1, 2, 3]));
    expect(statSync(join(dir, 'new.bin')).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).sort()).toEqual(['fleet-config.json', 'new.bin']);
  });

  it('with exclusive, refuses an existing file (EEXIST) and leaves it as it was', () => {
    dir = mkdtempSync(join(tmpdir(), 'boxagent-atomic-'));
    const file = join(dir, 'face.key');
    writeFileAtomic(file, 'first\n', { exclusive: true });
    let code: string | undefined;
    try {
      writeFileAtomic(file, 'second\n', { exclusive: true });
    } catch (err) {
      code = (err as NodeJS.ErrnoException).code;
    }
    expect(code).toBe('EEXIST');
    expect(readFileSync(file, 'utf8')).toBe('first\n');
    expect(readdirSync(dir)).toEqual(['face.key']);
  });
});
