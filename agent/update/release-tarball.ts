// The release tarball (LAYOUT.md): `boxagent-<version>-linux-<arch>.tar.gz`, a gzip'd tar whose root is the
// app tree's contents (`package.json` at the top, no leading directory). Made with GNU tar (Debian's, always
// installed): pax format, owner root, sorted names, hard links stored as files (the unpacker refuses links).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { treeVersion } from './releases.js';

export interface ReleaseTarball {
  file: string;
  version: string;
  sha256: string;
  size: number;
}

/** Node's architecture name → Debian's, as in the .deb's name. Only what the boxes run. */
export function debianArch(nodeArch: string = process.arch): string {
  const arch = ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[nodeArch];
  if (!arch) throw new Error(`no Debian architecture for Node's "${nodeArch}" (boxes are amd64 or arm64)`);
  return arch;
}

/** The file name a release of `version` has, with Debian's architecture name like the .deb beside it. */
export function releaseFileName(version: string, arch: string = debianArch()): string {
  return `boxagent-${version}-linux-${arch}.tar.gz`;
}

/**
 * Tars the app tree `tree` into `outDir` (or the file `out` when it ends in .tar.gz). `exclude` names top-level
 * entries to leave out (a test tree's node_modules symlink).
 */
export function buildReleaseTarball(
  tree: string,
  out: string,
  opts: { exclude?: string[] } = {},
): ReleaseTarball {
  const root = resolve(tree);
  const version = treeVersion(root);
  if (version === undefined)
    throw new Error(`${root} is not an app tree (package.json with a version and dist/agent/cli/main.js)`);
  const file = out.endsWith('.tar.gz') ? resolve(out) : join(resolve(out), releaseFileName(version));
  const entries = readdirSync(root)
    .filter((n) => !(opts.exclude ?? []).includes(n))
    .sort();
  const r = spawnSync(
    'tar',
    [
      '--create',
      '--gzip',
      '--format=pax',
      '--sort=name',
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      '--hard-dereference',
      '--file',
      file,
      '--directory',
      root,
      '--',
      ...entries,
    ],
    { encoding: 'utf8' },
  );
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`tar failed (${r.status}): ${r.stderr.trim()}`);
  const bytes = readFileSync(file);
  return {
    file,
    version,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    size: statSync(file).size,
  };
}
