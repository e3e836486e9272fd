// Stages the app tree of LAYOUT.md (/usr/lib/boxagent/app): package.json, dist/, config/, systemd/, the face
// models and the production node_modules with their native builds, pruned to what a box of one architecture
// can load. The same tree goes into the .deb and, as is, into the release tarball.
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  realpathSync,
  writeFileSync,
} from 'node:fs';
import { join, relative, sep } from 'node:path';
import { pruneNodeModules, type PruneReport } from './prune.js';

export interface StageOptions {
  /** The repository (holding package.json, package-lock.json, dist/, node_modules/). */
  repo: string;
  /** An empty or missing folder: the app tree is written here. */
  dir: string;
  /** Node's name of the target architecture (`x64`, `arm64`): the build machine's, since native builds are. */
  nodeArch: string;
  /** The version written into the staged package.json (default: the repository's). */
  version?: string;
}

export interface StagedApp {
  dir: string;
  version: string;
  /** Production packages copied from node_modules (lockfile entries without `dev`, present on disk). */
  packages: number;
  prune: PruneReport;
}

interface LockEntry {
  dev?: boolean;
  link?: boolean;
}

/** The node_modules paths (`node_modules/a`, `node_modules/a/node_modules/b`) the app needs at run time. */
export function productionPackages(repo: string): string[] {
  const lock = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8')) as {
    packages?: Record<string, LockEntry>;
  };
  if (!lock.packages) throw new Error('package-lock.json has no "packages" map (lockfileVersion 2 or later)');
  return Object.entries(lock.packages)
    .filter(([path, entry]) => path !== '' && !entry.dev && !entry.link)
    .map(([path]) => path)
    .filter((path) => existsSync(join(repo, path)));
}

/** Copies one package without its nested node_modules (those are lockfile entries of their own). */
function copyPackage(from: string, to: string): void {
  cpSync(from, to, {
    recursive: true,
    // Nested packages and npm's .bin links are not part of this package.
    filter: (src) => !relative(from, src).split(sep).includes('node_modules'),
  });
}

export function stageApp(opts: StageOptions): StagedApp {
  const { repo, dir } = opts;
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as Record<string, unknown>;
  const version = opts.version ?? String(pkg.version);
  if (!existsSync(join(repo, 'dist/agent/cli/main.js'))) {
    throw new Error('dist/ is not built: run `npm run build` first');
  }
  const models = join(repo, 'models/.cache');
  if (!existsSync(models) || readdirSync(models).length === 0) {
    throw new Error('models/.cache is empty: run `node models/fetch.mjs` first');
  }
  mkdirSync(dir, { recursive: true });
  if (readdirSync(dir).length > 0) throw new Error(`${dir} is not empty`);

  // The staged package.json: the version the package is built as, no scripts (nothing runs npm on a box).
  const staged: Record<string, unknown> = { ...pkg, version };
  delete staged.scripts;
  delete staged.devDependencies;
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(staged, null, 2)}\n`);

  // Source maps point at TypeScript sources that are not shipped.
  cpSync(join(repo, 'dist'), join(dir, 'dist'), { recursive: true, filter: (src) => !src.endsWith('.map') });
  // config/ holds TypeScript sources next to the data files the app reads at run time (templates, profiles).
  cpSync(join(repo, 'config'), join(dir, 'config'), {
    recursive: true,
    filter: (src) => !src.endsWith('.ts'),
  });
  cpSync(join(repo, 'systemd'), join(dir, 'systemd'), { recursive: true });
  mkdirSync(join(dir, 'models'));
  cpSync(join(repo, 'models/manifest.json'), join(dir, 'models/manifest.json'));
  // models/.cache may be a symlink (a worktree sharing the main checkout's): copy the files it points at.
  cpSync(realpathSync(models), join(dir, 'models/.cache'), { recursive: true, dereference: true });

  // node_modules may be a symlink too; the packages are real directories below it.
  const modules = realpathSync(join(repo, 'node_modules'));
  const packages = productionPackages(repo);
  for (const path of packages) {
    const inModules = relative('node_modules', path);
    copyPackage(join(modules, inModules), join(dir, 'node_modules', inModules));
  }
  const prune = pruneNodeModules(join(dir, 'node_modules'), opts.nodeArch);
  return { dir, version, packages: packages.length, prune };
}
