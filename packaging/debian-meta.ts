// The Debian-facing facts of the package: architecture and version names, the Node engines check, the control
// file, the changelog and the copyright file. Pure functions; build-package.ts writes what they return.

export { debianArch } from '../agent/update/release-tarball.js';

/**
 * An npm version as a Debian version that sorts the same way: a prerelease (`1.2.0-rc.1`) must sort before
 * its release, which in Debian is `~`. Build metadata (`+b1`) is kept as it is.
 */
export function debianVersion(npm: string): string {
  const m = /^(\d+\.\d+\.\d+)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$/.exec(npm);
  if (!m) throw new Error(`"${npm}" is not a semver version`);
  const [, release, pre, build] = m;
  return `${release}${pre ? `~${pre.replace(/-/g, '.')}` : ''}${build ? `+${build}` : ''}`;
}

/** Whether `version` (`v20.19.1` or `20.19.1`) satisfies an engines range made of `>=`, `<`, `^` terms. */
export function satisfiesEngines(range: string, version: string): boolean {
  const parse = (v: string): number[] => {
    const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(v.trim());
    if (!m) throw new Error(`cannot read version "${v}" in engines "${range}"`);
    return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
  };
  const cmp = (a: number[], b: number[]): number => {
    for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
    return 0;
  };
  const have = parse(version);
  // `a || b`: any alternative; inside one, every space-separated term must hold.
  return range.split('||').some((alt) =>
    alt
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .every((term) => {
        const m = /^(>=|<=|>|<|=|\^)?(.+)$/.exec(term);
        if (!m) throw new Error(`cannot read engines term "${term}"`);
        const want = parse(m[2] ?? '');
        const c = cmp(have, want);
        switch (m[1]) {
          case '>=':
            return c >= 0;
          case '>':
            return c > 0;
          case '<=':
            return c <= 0;
          case '<':
            return c < 0;
          case '^':
            return c >= 0 && have[0] === want[0];
          default:
            return c === 0;
        }
      }),
  );
}

export interface ControlFields {
  version: string;
  arch: string;
  maintainer: string;
  installedSizeKiB: number;
  depends: string[];
  recommends: string[];
  description: string;
  homepage?: string;
}

/** DEBIAN/control. */
export function controlFile(f: ControlFields): string {
  const [summary, ...body] = f.description.trim().split('\n');
  const long = body
    .join('\n')
    .trim()
    .split('\n')
    .map((line) => (line.trim() === '' ? ' .' : ` ${line.trim()}`))
    .join('\n');
  return [
    'Package: boxagent',
    `Version: ${f.version}`,
    `Architecture: ${f.arch}`,
    `Maintainer: ${f.maintainer}`,
    `Installed-Size: ${f.installedSizeKiB}`,
    `Depends: ${f.depends.join(', ')}`,
    ...(f.recommends.length > 0 ? [`Recommends: ${f.recommends.join(', ')}`] : []),
    'Section: misc',
    'Priority: optional',
    ...(f.homepage ? [`Homepage: ${f.homepage}`] : []),
    `Description: ${summary}`,
    long,
    '',
  ].join('\n');
}

/** RFC 5322 date as Debian changelogs write it (`Sun, 29 Nov 2026 18:00:00 +0000`). */
export function changelogDate(when: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    `${days[when.getUTCDay()]}, ${two(when.getUTCDate())} ${months[when.getUTCMonth()]} ${when.getUTCFullYear()} ` +
    `${two(when.getUTCHours())}:${two(when.getUTCMinutes())}:${two(when.getUTCSeconds())} +0000`
  );
}

/** usr/share/doc/boxagent/changelog.Debian (gzipped by the caller): one entry for this build. */
export function changelogEntry(version: string, maintainer: string, when: Date, commit?: string): string {
  return (
    `boxagent (${version}) stable; urgency=medium\n\n` +
    `  * Release ${version}${commit ? `, built from commit ${commit}` : ''}.\n` +
    `  * The daemon with its Node runtime and native modules, the face models,\n` +
    `    and the systemd, sysusers, tmpfiles and udev files.\n\n` +
    ` -- ${maintainer}  ${changelogDate(when)}\n`
  );
}

export interface BundledPackage {
  name: string;
  version: string;
  license: string;
}

/** One DEP-5 text line per bundled npm package. */
function packageLines(packages: BundledPackage[]): string {
  return [...packages]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((p) => ` ${p.name} ${p.version}: ${p.license}`)
    .join('\n');
}

/**
 * usr/share/doc/boxagent/copyright in the machine-readable format (DEP-5): boxagent, the bundled Node runtime,
 * every bundled npm package with the licence its package.json names, and the face models with their caveat.
 */
export function copyrightFile(opts: {
  year: number;
  nodeVersion: string;
  packages: BundledPackage[];
  modelsSource: string;
  modelsLicence: string;
}): string {
  return `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: boxagent
Comment: A binary package built with \`npm run package\`. Besides boxagent itself it bundles the Node.js
 runtime, the npm packages boxagent uses at run time and the face models, each under its own licence; the
 licence texts the packages ship are installed beside them.

Files: *
Copyright: ${opts.year} the boxagent authors
License: proprietary
 boxagent is not published under a free licence (package.json: UNLICENSED).
 All rights reserved by its authors.

Files: usr/lib/boxagent/node/*
Copyright: Node.js contributors and others
License: MIT-and-bundled
 Node.js ${opts.nodeVersion} and the libraries built into it. The full text of
 its licence and of those of the bundled libraries is
 /usr/lib/boxagent/node/LICENSE.

Files: usr/lib/boxagent/app/node_modules/*
Copyright: the authors of each package
License: bundled-npm-packages
 Each package is under the licence its package.json names, given in full in
 the LICENSE file it ships (beside its package.json):
${packageLines(opts.packages)}

Files: usr/lib/boxagent/app/models/.cache/*
Copyright: the authors of the face models
License: face-models
 Taken unchanged from the npm package ${opts.modelsSource}.
 ${opts.modelsLicence}
`;
}
