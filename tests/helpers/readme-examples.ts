// The README's request examples: a `<!-- request: METHOD /path -->` line, then a ```json block with the body.
// The OpenAPI tests compile them against generated types and send them to the server.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOG } from '../../agent/operations/catalog.js';
import type { AnyOperation } from '../../agent/operations/operation.js';
import { ROOT } from './daemon.js';

export interface ReadmeExample {
  method: string;
  /** The OpenAPI path template, e.g. `/v1/seal-jobs/{id}/confirm`. */
  path: string;
  /** The marker's line in README.md. */
  line: number;
  json: string;
}

export function readmeExamples(): ReadmeExample[] {
  const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n');
  const examples: ReadmeExample[] = [];
  lines.forEach((line, i) => {
    const m = /^<!-- request: (GET|POST|PUT|PATCH|DELETE) (\S+) -->$/.exec(line);
    if (!m) return;
    const open = lines.findIndex((l, j) => j > i && l.startsWith('```'));
    const close = lines.findIndex((l, j) => j > open && l.startsWith('```'));
    if (lines[open] !== '```json' || close < 0) {
      throw new Error(`README.md:${i + 1}: a \`\`\`json block must follow the request marker`);
    }
    examples.push({ method: m[1]!, path: m[2]!, line: i + 1, json: lines.slice(open + 1, close).join('\n') });
  });
  return examples;
}

/** The catalog operation an example calls. */
export function operationOf(e: ReadmeExample): AnyOperation | undefined {
  return CATALOG.find(
    (o) => o.http?.method === e.method && o.http.path.replace(/:(\w+)/g, '{$1}') === e.path,
  );
}
