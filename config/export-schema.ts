// `npm run schema`: writes the config JSON Schema (for editors and installers' tooling) to stdout or a file.
import { writeFileSync } from 'node:fs';
import { fileSchema } from './schema.js';

const text = JSON.stringify(fileSchema(), null, 2) + '\n';
const out = process.argv[2];
if (out) writeFileSync(out, text);
else process.stdout.write(text);
