// `npm run package`: the .deb of an offline box (LAYOUT.md) and the release tarball of the same app tree,
// both into dist-pkg/. Built with Debian's own tools: dpkg-shlibdeps for the shared-library dependencies of
// every native binary shipped, dpkg-deb --root-owner-group for the archive (files owned by root without
// fakeroot; the service user's ownership is set by postinst and dpkg-statoverride on the box).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  closeSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import {
  changelogEntry,
  controlFile,
  copyrightFile,
  debianArch,
  debianVersion,
  satisfiesEngines,
  type BundledPackage,
} from './debian-meta.js';
import type { PruneReport } from './prune.js';
import { stageApp } from './stage-app.js';
import { buildReleaseTarball } from '../agent/update/release-tarball.js';

export type Compression = 'xz' | 'gzip';

export interface BuildOptions {
  repo: string;
  outDir: string;
  /** Build as this version (written into the staged package.json); default the repository's version. */
  version?: string;
  /** xz (default, the smallest) or gzip level 1 (much quicker: for tests that build twice). */
  compression?: Compression;
  /** Also write the release tarball (default true). */
  tarball?: boolean;
  log?: (line: string) => void;
}

export interface PackageSizes {
  /** Bytes on disk once installed, by part; the archives' own sizes. */
  node: number;
  dist: number;
  nodeModules: number;
  models: number;
  config: number;
  installed: number;
  deb: number;
  tarball?: number;
  /** Bytes pruned from node_modules, by reason. */
  pruned: PruneReport['removed'];
}

export interface BuildResult {
  deb: string;
  tarball?: string;
  version: string;
  debVersion: string;
  arch: string;
  depends: string[];
  sizes: PackageSizes;
}

const PACKAGING = dirname(fileURLToPath(import.meta.url));
const DEBIAN_FILES = join(PACKAGING, 'debian');
const DEFAULT_MAINTAINER = 'boxagent maintainers <boxagent@boxagent.invalid>';
const DESCRIPTION = `counter-box agent: devices, face, local HTTP API, fleet link
boxagent is the daemon of a government-service counter box: it drives the
dot-matrix and photo printers, the face camera, the steel seal machine, the
resident ID card reader and the rating pad, serves the counter software on a
local HTTP API and reports to a fleet over MQTT.

This package is self-contained for boxes without internet access: it brings
its own Node.js runtime, the native modules built for this architecture, the
face recognition models and the fonts. Configure it with
\`boxagent config init --force\`, check it with \`boxagent doctor\`, then start
boxagent.service.`;

/** Node's LICENSE beside the runtime: where an official tarball and the Debian-style packages keep it. */
function nodeLicense(execPath: string): string {
  const prefix = resolve(dirname(execPath), '..');
  const candidates = [
    join(prefix, 'LICENSE'),
    join(prefix, 'share/doc/node/LICENSE'),
    join(prefix, 'share/doc/nodejs/LICENSE'),
    '/usr/share/doc/nodejs/LICENSE',
  ];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`cannot find Node's LICENSE (looked in ${candidates.join(', ')})`);
  return found;
}

function isElf(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(4);
    return readSync(fd, head, 0, 4, 0) === 4 && head.toString('latin1') === '\x7fELF';
  } finally {
    closeSync(fd);
  }
}

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else yield path;
  }
}

function bytesUnder(dir: string): number {
  let total = 0;
  for (const file of walk(dir)) total += lstatSync(file).size;
  return total;
}

/** Installed-Size as dpkg-gencontrol counts it: each file rounded up to a KiB, each folder and link one. */
function installedSizeKiB(root: string): number {
  let kib = 0;
  const count = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'DEBIAN' && dir === root) continue;
      const path = join(dir, entry.name);
      kib += entry.isFile() ? Math.ceil(lstatSync(path).size / 1024) || 1 : 1;
      if (entry.isDirectory()) count(path);
    }
  };
  count(root);
  return kib;
}

/**
 * Modes as Debian expects them: folders 0755; the runtime and the launcher 0755; everything else 0644 —
 * shared objects and addons are loaded, never executed, and nothing under app/ is run as a program (npm's
 * bin scripts would otherwise need an interpreter dependency on Debian's nodejs).
 */
function normaliseModes(root: string, executables: string[]): void {
  const exec = new Set(executables.map((e) => join(root, e)));
  const visit = (dir: string): void => {
    chmodSync(dir, 0o755);
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.isFile()) chmodSync(path, exec.has(path) ? 0o755 : 0o644);
    }
  };
  visit(root);
}

/**
 * The Depends of every ELF object shipped, from dpkg-shlibdeps (which reads the symbol versions each object
 * needs and maps them to the Debian packages and minimum versions of this build machine). The package tree
 * sits at `<work>/debian/boxagent`, where dpkg-shlibdeps recognises the bundled private libraries (libvips,
 * libonnxruntime) as the package's own.
 */
function sharedLibraryDepends(work: string, root: string): string[] {
  const elves = [...walk(root)].filter((f) => lstatSync(f).isFile() && isElf(f));
  writeFileSync(join(work, 'debian/control'), 'Source: boxagent\n\nPackage: boxagent\nArchitecture: any\n');
  // The bundled libraries are found through $ORIGIN run paths, which dpkg-shlibdeps does not follow: name their
  // folders. (It warns about the napi_* and uv_* symbols the addons take from node itself: expected.)
  const privateDirs = [...new Set(elves.filter((f) => /\.so(?:\.\d+)*$/.test(f)).map((f) => dirname(f)))];
  const r = spawnSync(
    'dpkg-shlibdeps',
    [
      '-O',
      ...privateDirs.map((d) => `-l${relative(work, d)}`),
      ...elves.map((f) => `-e${relative(work, f)}`),
    ],
    { cwd: work, encoding: 'utf8' },
  );
  const line = r.stdout.split('\n').find((l) => l.startsWith('shlibs:Depends='));
  if (r.status !== 0 || !line) throw new Error(`dpkg-shlibdeps failed:\n${r.stderr}`);
  return line
    .slice('shlibs:Depends='.length)
    .split(',')
    .map((d) => d.trim())
    .filter(Boolean);
}

/**
 * Strips every ELF object as Debian's dh_strip does (symbol tables and debug info; the dynamic symbols that
 * addons link against stay): lintian treats shipped unstripped objects as an error, and node loses 13 MB.
 */
function stripObjects(root: string): void {
  for (const file of walk(root)) {
    if (!lstatSync(file).isFile() || !isElf(file)) continue;
    const shared = /\.(?:node|so(?:\.\d+)*)$/.test(file);
    execFileSync('strip', [
      '--remove-section=.comment',
      '--remove-section=.note',
      ...(shared ? ['--strip-unneeded'] : []),
      file,
    ]);
  }
}

/** Loads every native addon of the staged tree with the packaged runtime: a pruned file shows here. */
function checkAddonsLoad(node: string, appDir: string): void {
  const addons = [...walk(join(appDir, 'node_modules'))].filter((f) => f.endsWith('.node'));
  const script = `const { createRequire } = require('node:module');
const req = createRequire(${JSON.stringify(join(appDir, 'package.json'))});
for (const f of ${JSON.stringify(addons)}) req(f);
for (const m of ['better-sqlite3', 'sharp', 'onnxruntime-node', 'koffi', 'usb', 'node-hid', 'serialport', 'unix-dgram']) req(m);`;
  const r = spawnSync(node, ['-e', script], { cwd: appDir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`a native module of the staged tree does not load:\n${r.stderr}`);
  const version = spawnSync(node, [join(appDir, 'dist/agent/cli/main.js'), '--version'], {
    encoding: 'utf8',
  });
  if (version.status !== 0) throw new Error(`the staged CLI does not start:\n${version.stderr}`);
}

function bundledPackages(modulesDir: string): BundledPackage[] {
  const found: BundledPackage[] = [];
  for (const file of walk(modulesDir)) {
    if (!file.endsWith('/package.json')) continue;
    const rel = relative(modulesDir, dirname(file)).split('/');
    // A package root: node_modules/<name> or node_modules/@scope/<name> (possibly nested).
    const last = rel.lastIndexOf('node_modules');
    const name = rel.slice(last + 1).join('/');
    if (!/^(?:@[^/]+\/)?[^/@]+$/.test(name)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { version?: string; license?: unknown };
    if (!pkg.version) continue; // a sub-folder's package.json ({"type": "module"}), not a package
    const license =
      typeof pkg.license === 'string'
        ? pkg.license
        : ((pkg.license as { type?: string } | undefined)?.type ?? 'see its files');
    found.push({ name, version: pkg.version, license });
  }
  // Nested copies of one version are listed once.
  return [...new Map(found.map((p) => [`${p.name}@${p.version}`, p])).values()];
}

function gitCommit(repo: string): string | undefined {
  const r = spawnSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: repo, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function install(from: string, to: string, mode = 0o644): void {
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
  chmodSync(to, mode);
}

export function buildPackage(opts: BuildOptions): BuildResult {
  const log = opts.log ?? ((line: string) => process.stderr.write(`package: ${line}\n`));
  const repo = resolve(opts.repo);
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
    version: string;
    engines?: { node?: string };
  };
  const engines = pkg.engines?.node;
  if (engines && !satisfiesEngines(engines, process.version)) {
    throw new Error(
      `this Node (${process.version}) does not satisfy engines.node "${engines}" of package.json`,
    );
  }
  const version = opts.version ?? pkg.version;
  // Revision 1 of the Debian packaging of that upstream version (the changelog is then changelog.Debian).
  const debVersion = `${debianVersion(version)}-1`;
  const arch = debianArch(process.arch);
  const maintainer =
    process.env.DEBFULLNAME && process.env.DEBEMAIL
      ? `${process.env.DEBFULLNAME} <${process.env.DEBEMAIL}>`
      : DEFAULT_MAINTAINER;

  const work = mkdtempSync(join(tmpdir(), 'boxagent-package-'));
  try {
    const root = join(work, 'debian/boxagent');
    const lib = join(root, 'usr/lib/boxagent');
    log(`staging the app tree (version ${version}, linux-${process.arch})`);
    const staged = stageApp({ repo, dir: join(lib, 'app'), nodeArch: process.arch, version });
    log(`${staged.packages} production packages; pruned ${staged.prune.files} files`);
    install(process.execPath, join(lib, 'node/bin/node'), 0o755);
    install(nodeLicense(process.execPath), join(lib, 'node/LICENSE'));
    stripObjects(lib);
    checkAddonsLoad(join(lib, 'node/bin/node'), join(lib, 'app'));
    install(join(DEBIAN_FILES, 'boxagent'), join(root, 'usr/bin/boxagent'), 0o755);
    const units = join(root, 'usr/lib/systemd/system');
    for (const unit of ['boxagent.service', 'boxagent-backup.service', 'boxagent-backup.timer']) {
      install(join(repo, 'systemd', unit), join(units, unit));
    }
    install(join(repo, 'systemd/sysusers.d/boxagent.conf'), join(root, 'usr/lib/sysusers.d/boxagent.conf'));
    install(join(repo, 'systemd/tmpfiles.d/boxagent.conf'), join(root, 'usr/lib/tmpfiles.d/boxagent.conf'));
    install(
      join(repo, 'systemd/udev/70-boxagent.rules'),
      join(root, 'usr/lib/udev/rules.d/70-boxagent.rules'),
    );
    install(join(DEBIAN_FILES, 'config.yaml'), join(root, 'etc/boxagent/config.yaml'));

    const man = join(root, 'usr/share/man/man1');
    mkdirSync(man, { recursive: true });
    writeFileSync(
      join(man, 'boxagent.1.gz'),
      gzipSync(readFileSync(join(DEBIAN_FILES, 'boxagent.1')), { level: 9 }),
    );
    const doc = join(root, 'usr/share/doc/boxagent');
    mkdirSync(doc, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(repo, 'models/manifest.json'), 'utf8')) as {
      source: { npm: string };
      licence: { package: string; caveat: string };
    };
    writeFileSync(
      join(doc, 'copyright'),
      copyrightFile({
        year: new Date().getUTCFullYear(),
        nodeVersion: process.version,
        packages: bundledPackages(join(lib, 'app/node_modules')),
        modelsSource: manifest.source.npm,
        modelsLicence: `${manifest.licence.package}. ${manifest.licence.caveat}`,
      }),
    );
    install(join(DEBIAN_FILES, 'lintian-overrides'), join(root, 'usr/share/lintian/overrides/boxagent'));
    const changelog = changelogEntry(debVersion, maintainer, new Date(), gitCommit(repo));
    writeFileSync(join(doc, 'changelog.Debian.gz'), gzipSync(changelog, { level: 9 }));

    normaliseModes(root, ['usr/bin/boxagent', 'usr/lib/boxagent/node/bin/node']);
    chmodSync(join(root, 'etc/boxagent/config.yaml'), 0o640);

    const depends = sharedLibraryDepends(work, root);
    const control = join(root, 'DEBIAN');
    mkdirSync(control);
    for (const script of ['postinst', 'prerm', 'postrm']) {
      install(join(DEBIAN_FILES, script), join(control, script), 0o755);
    }
    writeFileSync(join(control, 'conffiles'), '/etc/boxagent/config.yaml\n');
    const sums = [...walk(root)]
      .filter((f) => !f.startsWith(`${control}/`) && !f.startsWith(join(root, 'etc/')))
      .map((f) => `${createHash('md5').update(readFileSync(f)).digest('hex')}  ${relative(root, f)}`)
      .sort((a, b) => a.slice(34).localeCompare(b.slice(34)));
    writeFileSync(join(control, 'md5sums'), `${sums.join('\n')}\n`);
    writeFileSync(
      join(control, 'control'),
      controlFile({
        version: debVersion,
        arch,
        maintainer,
        installedSizeKiB: installedSizeKiB(root),
        depends: [...depends, 'adduser'],
        // ffmpeg: only boxes with a camera need it (the frame source); doctor says when it is missing.
        recommends: ['ffmpeg'],
        description: DESCRIPTION,
      }),
    );
    for (const file of ['control', 'conffiles', 'md5sums']) chmodSync(join(control, file), 0o644);

    mkdirSync(opts.outDir, { recursive: true });
    const deb = join(resolve(opts.outDir), `boxagent_${debVersion}_${arch}.deb`);
    const compression = opts.compression ?? 'xz';
    log(`dpkg-deb (${compression}) → ${deb}`);
    execFileSync(
      'dpkg-deb',
      [
        '--root-owner-group',
        compression === 'xz' ? '-Zxz' : '-Zgzip',
        ...(compression === 'gzip' ? ['-z1'] : []),
        '--build',
        root,
        deb,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );

    const appDir = join(lib, 'app');
    const tarball =
      opts.tarball === false
        ? undefined
        : join(resolve(opts.outDir), `boxagent-${version}-linux-${arch}.tar.gz`);
    if (tarball) {
      log(`release tarball → ${tarball}`);
      // The same writer a fleet release is made with (agent/update/release-tarball.ts).
      buildReleaseTarball(appDir, tarball);
    }

    const sizes: PackageSizes = {
      node: statSync(join(lib, 'node/bin/node')).size,
      dist: bytesUnder(join(appDir, 'dist')),
      nodeModules: bytesUnder(join(appDir, 'node_modules')),
      models: bytesUnder(join(appDir, 'models')),
      config: bytesUnder(join(appDir, 'config')),
      installed: installedSizeKiB(root) * 1024,
      deb: statSync(deb).size,
      ...(tarball ? { tarball: statSync(tarball).size } : {}),
      pruned: staged.prune.removed,
    };
    return {
      deb,
      ...(tarball ? { tarball } : {}),
      version,
      debVersion,
      arch,
      depends: [...depends, 'adduser'],
      sizes,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
