// The build step (`npm run build`, after tsc): writes the served client from the catalogs into dist/client/
// (what the daemon serves as /v1/client.js and /v1/client.d.ts) and into the repo's client/ package.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EVENT_CATALOG } from '../../events/catalog.js';
import { CATALOG } from '../../operations/catalog.js';
import { generateClient } from './generate.js';

// This file runs as dist/agent/http/client/emit.js; the compiled runtime sits beside it.
const runtime = readFileSync(new URL('./runtime.js', import.meta.url), 'utf8');
const { js, dts } = generateClient(CATALOG, EVENT_CATALOG, runtime);
for (const dir of ['../../../client/', '../../../../client/']) {
  const path = fileURLToPath(new URL(dir, import.meta.url));
  mkdirSync(path, { recursive: true });
  writeFileSync(`${path}index.js`, js);
  writeFileSync(`${path}index.d.ts`, dts);
}
