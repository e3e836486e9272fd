// `npm run package [-- --version V] [--out DIR] [--gzip] [--no-tarball] [--json]`: builds dist-pkg/boxagent_<version>_<arch>.deb and
// dist-pkg/boxagent-<version>-linux-<arch>.tar.gz from the built tree (`npm run package` builds it first).
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildPackage } from './build-package.js';

const MiB = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

try {
  const { values } = parseArgs({
    options: {
      version: { type: 'string' },
      out: { type: 'string', default: 'dist-pkg' },
      gzip: { type: 'boolean', default: false },
      'no-tarball': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const result = buildPackage({
    repo,
    outDir: resolve(repo, values.out),
    ...(values.version ? { version: values.version } : {}),
    compression: values.gzip ? 'gzip' : 'xz',
    tarball: !values['no-tarball'],
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(0);
  }
  const s = result.sizes;
  process.stdout.write(
    `${result.deb}\n${result.tarball ?? '(no tarball)'}\n` +
      `Depends: ${result.depends.join(', ')}\n` +
      `sizes: .deb ${MiB(s.deb)}, tarball ${s.tarball ? MiB(s.tarball) : '-'}, installed ${MiB(s.installed)} ` +
      `(node ${MiB(s.node)}, node_modules ${MiB(s.nodeModules)}, models ${MiB(s.models)}, dist ${MiB(s.dist)}, ` +
      `config ${MiB(s.config)})\n` +
      `pruned from node_modules: ${Object.entries(s.pruned)
        .map(([why, bytes]) => `${why} ${MiB(bytes)}`)
        .join(', ')}\n`,
  );
} catch (err) {
  process.stderr.write(`package: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
