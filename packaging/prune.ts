// What a box cannot use, removed from the staged production node_modules: native builds for other systems
// and architectures (npm installs every prebuild a package ships), GPU execution providers of onnxruntime
// (the boxes have no GPU; the face models run on the CPU provider), compiler inputs and intermediates of the
// addons built from source, and TypeScript declarations and source maps. Licences and READMEs stay.
import { existsSync, lstatSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

export interface PruneReport {
  /** Bytes removed, by reason. */
  removed: Record<PruneReason, number>;
  files: number;
}

export type PruneReason =
  'other-platform' | 'gpu-provider' | 'build-input' | 'typings-and-maps' | 'package-dev-files';

/**
 * The C/C++ sources vendored by the native packages (sqlite, hidapi, libusb): inputs
 * of a build that already happened. Listed by name: a package's src/ elsewhere may well be its JavaScript
 * (koffi's is).
 */
const VENDORED_SOURCES = new Set([
  'better-sqlite3/deps',
  'better-sqlite3/src',
  'node-hid/hidapi',
  'node-hid/src',
  'usb/libusb',
  'usb/src',
  'unix-dgram/src',
  '@serialport/bindings-cpp/src',
]);
/** A package's own tests, examples and benchmarks (root-level folders), never loaded by its code. */
const PACKAGE_DEV_DIRS = new Set([
  'test',
  'tests',
  '__tests__',
  'example',
  'examples',
  'benchmark',
  'benchmarks',
]);

/** `a/node_modules/@s/b/lib/x.js` → package `a/node_modules/@s/b`, path inside it `lib/x.js`. */
export function splitPackage(parts: string[]): { pkg: string; inside: string[] } {
  let i = 0;
  for (;;) {
    i += parts[i]?.startsWith('@') ? 2 : 1;
    if (parts[i] !== 'node_modules' || i + 1 >= parts.length) break;
    i += 1;
  }
  return { pkg: parts.slice(0, i).join('/'), inside: parts.slice(i) };
}

/** Compiler inputs and build leftovers; no addon loads them at run time. */
const BUILD_INPUT = /\.(?:c|cc|cpp|cxx|h|hh|hpp|hxx|o|a|obj|lib|gyp|gypi|mk|tlog|pdb|exp)$/i;
const TYPINGS_AND_MAPS = /(?:\.d\.[cm]?ts|\.[cm]?ts|\.map)$/;
/** onnxruntime's execution providers for GPUs and accelerators, loaded only when a session asks for one. */
// (libonnxruntime_providers_shared.so exists only to load those; the CPU provider is in libonnxruntime itself.)
const GPU_PROVIDER = /^libonnxruntime_providers_\w+\.so$/;

/**
 * Why `path` (relative to node_modules, `/`-separated) is not needed on a Linux `nodeArch` box running glibc,
 * or undefined to keep it. `gypPackages`: the packages built from source here (they have a binding.gyp),
 * whose build/ folder is compiler output; other packages keep their JavaScript in build/.
 */
export function pruneReason(
  path: string,
  nodeArch: string,
  isDir: boolean,
  gypPackages: ReadonlySet<string> = new Set(),
): PruneReason | undefined {
  const parts = path.split('/');
  const name = parts[parts.length - 1] ?? '';
  const platform = `linux-${nodeArch}`;
  const { pkg, inside } = splitPackage(parts);
  // Dotfiles (.eslintrc, .npmignore, .gitignore, .github/…) and a package's tests, examples, benchmarks.
  if (name.startsWith('.')) return 'package-dev-files';
  // Release and test shell scripts of the packages (pino's inc-version.sh): no module runs a shell script.
  if (!isDir && name.endsWith('.sh')) return 'package-dev-files';
  if (isDir && inside.length === 1 && PACKAGE_DEV_DIRS.has(name)) return 'package-dev-files';
  if (isDir && VENDORED_SOURCES.has(`${pkg}/${inside.join('/')}`)) return 'build-input';
  // node-gyp-build layout (usb, serialport, node-hid): prebuilds/<platform>-<arch>[-libc]/ or
  // prebuilds/HID[_hidraw]-<platform>-<arch>/; only the glibc build for this architecture.
  const prebuilds = parts.indexOf('prebuilds');
  if (prebuilds >= 0 && parts.length > prebuilds + 1) {
    const target = parts[prebuilds + 1] ?? '';
    if (!(target === platform || target.endsWith(`-${platform}`))) return 'other-platform';
    if (!isDir && /[.-]musl[.-]/.test(name)) return 'other-platform';
  }
  // onnxruntime-node: bin/napi-v6/<os>/<arch>/.
  const napi = parts.findIndex((p) => /^napi-v\d+$/.test(p));
  if (parts[0] === 'onnxruntime-node' && napi >= 0 && parts.length > napi + 1) {
    if (parts[napi + 1] !== 'linux') return 'other-platform';
    if (parts.length > napi + 2 && parts[napi + 2] !== nodeArch) return 'other-platform';
  }
  // koffi's per-platform package ships glibc and musl builds side by side.
  if (isDir && /^musl_/.test(name)) return 'other-platform';
  if (!isDir && GPU_PROVIDER.test(name)) return 'gpu-provider';
  // Addons built from source (better-sqlite3, unix-dgram): only build/Release/<addon>.node is loaded.
  const build = parts.indexOf('build');
  if (build > 0 && build < parts.length - 1 && gypPackages.has(parts.slice(0, build).join('/'))) {
    const inBuild = parts.slice(build + 1);
    if (inBuild[0] !== 'Release') return 'build-input';
    if (inBuild.length === 2 && !isDir) {
      return name.endsWith('.node') && name !== 'test_extension.node' ? undefined : 'build-input';
    }
    if (inBuild.length >= 2) return 'build-input';
  }
  if (!isDir && BUILD_INPUT.test(name)) return 'build-input';
  if (!isDir && TYPINGS_AND_MAPS.test(name)) return 'typings-and-maps';
  return undefined;
}

/** Bytes under `path` (a file or a whole folder). */
function sizeOf(path: string): { bytes: number; files: number } {
  const st = lstatSync(path);
  if (!st.isDirectory()) return { bytes: st.size, files: 1 };
  let bytes = 0;
  let files = 0;
  for (const entry of readdirSync(path)) {
    const s = sizeOf(join(path, entry));
    bytes += s.bytes;
    files += s.files;
  }
  return { bytes, files };
}

/** Removes what `pruneReason` names under `modulesDir`, then the folders left empty. */
export function pruneNodeModules(modulesDir: string, nodeArch: string): PruneReport {
  const report: PruneReport = {
    removed: {
      'other-platform': 0,
      'gpu-provider': 0,
      'build-input': 0,
      'typings-and-maps': 0,
      'package-dev-files': 0,
    },
    files: 0,
  };
  const walk = (dir: string): boolean => {
    let left = 0;
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      const isDir = lstatSync(path).isDirectory();
      const rel = relative(modulesDir, path).split(sep).join('/');
      const reason = pruneReason(rel, nodeArch, isDir, gypPackages);
      if (reason) {
        const s = sizeOf(path);
        report.removed[reason] += s.bytes;
        report.files += s.files;
        rmSync(path, { recursive: true, force: true });
      } else if (isDir && !walk(path)) {
        rmdirSync(path);
      } else {
        left++;
      }
    }
    return left > 0;
  };
  const gypPackages = new Set<string>();
  const findGyp = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const path = join(dir, entry.name);
      if (entry.name.startsWith('@')) findGyp(path);
      else if (existsSync(join(path, 'binding.gyp')))
        gypPackages.add(relative(modulesDir, path).split(sep).join('/'));
      if (existsSync(join(path, 'node_modules'))) findGyp(join(path, 'node_modules'));
    }
  };
  findGyp(modulesDir);
  walk(modulesDir);
  return report;
}
