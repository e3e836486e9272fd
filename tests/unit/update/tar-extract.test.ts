// The release unpacker against hostile tarballs, made with GNU tar itself (-P keeps absolute and `..` names):
// each attack would write outside the release directory if unpacked naively; here each is refused and
// nothing lands outside. A well-formed release (pax, long names, an inner symlink) unpacks whole.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { extractTarGz, UnsafeArchiveError } from '../../../agent/update/tar-extract.js';
import { removeDir, tempDir } from '../../helpers/daemon.js';

const work = tempDir('boxagent-tar-');
afterAll(() => removeDir(work));
let n = 0;

/** Runs GNU tar in `cwd` making a .tar.gz of `names`, with extra flags; returns its path. */
function tarball(cwd: string, names: string[], flags: string[] = []): string {
  const out = join(work, `t${++n}.tar.gz`);
  const r = spawnSync('tar', ['-czf', out, '--format=gnu', ...flags, ...names], { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return out;
}

function scene(): { src: string; dest: string; outside: string } {
  const base = join(work, `s${++n}`);
  const src = join(base, 'src');
  mkdirSync(src, { recursive: true });
  return { src, dest: join(base, 'release'), outside: join(base, 'outside') };
}

describe('release unpacking', () => {
  it('unpacks a release: files with their exec bit, long paths, a symlink inside the tree', async () => {
    const { src, dest } = scene();
    const deep = join(src, 'node_modules', 'a'.repeat(60), 'b'.repeat(60), 'lib');
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(deep, 'index.js'), 'export {};\n');
    writeFileSync(join(src, 'package.json'), '{"version":"1.2.3"}');
    mkdirSync(join(src, 'bin'));
    writeFileSync(join(src, 'bin', 'tool'), '#!/bin/sh\n', { mode: 0o755 });
    symlinkSync('../package.json', join(src, 'bin', 'pkg'));
    const file = tarball(src, ['package.json', 'bin', 'node_modules'], ['--format=pax']);
    const r = await extractTarGz(file, dest, 1e6);
    expect(r.files).toBe(3);
    expect(
      readFileSync(join(dest, 'node_modules', 'a'.repeat(60), 'b'.repeat(60), 'lib', 'index.js'), 'utf8'),
    ).toBe('export {};\n');
    expect(readlinkSync(join(dest, 'bin', 'pkg'))).toBe('../package.json');
    expect(spawnSync('test', ['-x', join(dest, 'bin', 'tool')]).status).toBe(0);
  });

  it('refuses a member named with ".." (path traversal)', async () => {
    const { src, dest, outside } = scene();
    writeFileSync(join(src, '..', 'outside'), 'x');
    const file = tarball(src, ['../outside'], ['-P']);
    removeDir(outside);
    await expect(extractTarGz(file, dest, 1e6)).rejects.toThrow(/"\.\." in the path/);
    expect(existsSync(outside)).toBe(false);
  });

  it('refuses an absolute member name', async () => {
    const { src, dest } = scene();
    const victim = join(work, `victim${n}`);
    writeFileSync(victim, 'original');
    const file = tarball(src, [victim], ['-P']);
    await expect(extractTarGz(file, dest, 1e6)).rejects.toThrow(/absolute path/);
    expect(readFileSync(victim, 'utf8')).toBe('original');
  });

  it('refuses a symlink pointing out of the release, and a file written through a symlink', async () => {
    const a = scene();
    symlinkSync('/etc', join(a.src, 'etc-link'));
    await expect(extractTarGz(tarball(a.src, ['etc-link']), a.dest, 1e6)).rejects.toThrow(/absolute path/);
    const b = scene();
    symlinkSync('../../outside', join(b.src, 'up'));
    await expect(extractTarGz(tarball(b.src, ['up']), b.dest, 1e6)).rejects.toThrow(/pointing out/);
    // An inner symlink to a directory, then a member under it: refused before anything is written through it.
    const c = scene();
    mkdirSync(join(c.src, 'dir'));
    symlinkSync('dir', join(c.src, 'alias'));
    const alias = join(c.src, 'x');
    mkdirSync(alias);
    writeFileSync(join(alias, 'f'), 'y');
    const file = tarball(c.src, ['alias', 'x'], ['--transform=s,^x,alias,']);
    await expect(extractTarGz(file, c.dest, 1e6)).rejects.toThrow(/through the symlink alias/);
    expect(existsSync(join(c.dest, 'dir', 'f'))).toBe(false);
  });

  it('refuses hard links and an archive that unpacks past the limit', async () => {
    const a = scene();
    writeFileSync(join(a.src, 'one'), 'same');
    linkSync(join(a.src, 'one'), join(a.src, 'two'));
    await expect(extractTarGz(tarball(a.src, ['one', 'two']), a.dest, 1e6)).rejects.toThrow(/hard links/);
    const b = scene();
    writeFileSync(join(b.src, 'big'), Buffer.alloc(10_000));
    await expect(extractTarGz(tarball(b.src, ['big']), b.dest, 5000)).rejects.toThrow(UnsafeArchiveError);
  });

  it('refuses a file that is not a gzip tarball, and one cut short', async () => {
    const a = scene();
    writeFileSync(join(work, 'not.tar.gz'), 'hello');
    await expect(extractTarGz(join(work, 'not.tar.gz'), a.dest, 1e6)).rejects.toThrow(UnsafeArchiveError);
    const b = scene();
    writeFileSync(join(b.src, 'f'), Buffer.alloc(100_000, 7));
    const whole = readFileSync(tarball(b.src, ['f']));
    const spawnGzip = spawnSync('gzip', ['-dc'], { input: whole });
    const cut = spawnSync('gzip', ['-c'], { input: spawnGzip.stdout.subarray(0, 50_000) });
    writeFileSync(join(work, 'cut.tar.gz'), cut.stdout);
    await expect(extractTarGz(join(work, 'cut.tar.gz'), b.dest, 1e6)).rejects.toThrow(/cut short/);
  });
});
