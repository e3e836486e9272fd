// A counter team generates TypeScript types from /openapi.json with openapi-typescript and writes requests as
// the README shows them. Here: types generated from the served document, and every request example the README
// marks (`<!-- request: METHOD /path -->` before a ```json block) compiled against them with tsc (strict), and
// accepted by the server's own input validation. A wrong example must not compile (the check bites).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import openapiTS, { astToString, type OpenAPI3 } from 'openapi-typescript';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHttpServer, type HttpServer } from '../../../agent/http/server.js';
import { Metrics } from '../../../agent/metrics.js';
import { validateInput } from '../../../agent/operations/validation.js';
import { removeDir, tempDir } from '../../helpers/daemon.js';
import { buildServices, type TestServices } from '../../helpers/fleet-services.js';
import { operationOf, readmeExamples } from '../../helpers/readme-examples.js';

/** A .ts module declaring each example with the request body type of its path and method. */
function examplesModule(examples: readonly { method: string; path: string; json: string }[]): string {
  const header = [
    "import type { paths } from './api.js';",
    '/** The JSON request body of a path and method; never when it has none (so any example fails). */',
    'type Body<P extends keyof paths, M extends keyof paths[P]> =',
    "  NonNullable<paths[P][M]> extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;",
  ];
  const body = examples.map(
    (e, i) =>
      `export const example${i}: Body<${JSON.stringify(e.path)}, ${JSON.stringify(e.method.toLowerCase())}> = ${e.json};`,
  );
  return [...header, ...body, ''].join('\n');
}

/** tsc --strict on the examples and the generated types: the diagnostics as `file:line message`. */
function compile(dir: string): string[] {
  const program = ts.createProgram([join(dir, 'examples.ts')], {
    strict: true,
    noEmit: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    types: [],
  });
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file
      ? `${d.file.fileName}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}`
      : '';
    return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

let rig: TestServices;
let http: HttpServer;
let dir: string;

beforeAll(async () => {
  rig = buildServices('box:\n  id: types-box\nface:\n  enabled: false\n');
  http = buildHttpServer(rig.services, new Metrics(rig.services.devices, rig.services.store));
  const res = await http.app.inject({ method: 'GET', url: '/openapi.json', headers: { host: '127.0.0.1' } });
  dir = tempDir('boxagent-openapi-types-');
  const nodes = await openapiTS(res.json<OpenAPI3>());
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  writeFileSync(join(dir, 'api.ts'), astToString(nodes));
});

afterAll(async () => {
  await http.app.close();
  await rig.close();
  removeDir(dir);
});

describe("the README's request examples", () => {
  it('are marked for the print, seal, certificate, face verify and ID photo requests', () => {
    expect(readmeExamples().map((e) => `${e.method} ${e.path}`)).toEqual(
      expect.arrayContaining([
        'POST /v1/print-jobs',
        'POST /v1/seal-jobs',
        'POST /v1/seal-jobs/{id}/confirm',
        'POST /v1/certificates',
        'POST /v1/face/verify',
        'POST /v1/photos/id-photo',
      ]),
    );
  });

  it('compile against the types openapi-typescript generates from /openapi.json', () => {
    writeFileSync(join(dir, 'examples.ts'), examplesModule(readmeExamples()));
    expect(compile(dir)).toEqual([]);
  });

  it('would not compile with a field of the wrong type or a field the API does not have', () => {
    const print = readmeExamples().find((e) => e.path === '/v1/print-jobs')!;
    const wrong = [
      { ...print, json: print.json.replace('"printer-1"', '1') },
      { ...print, json: print.json.replace('"sizePt": 12', '"sizePt": 12, "colour": "red"') },
    ];
    writeFileSync(join(dir, 'examples.ts'), examplesModule(wrong));
    expect(compile(dir)).toHaveLength(2);
  });

  it('are accepted by the server as they are', () => {
    for (const e of readmeExamples()) {
      const op = operationOf(e);
      expect(op, `README.md:${e.line}: ${e.method} ${e.path} is an operation`).toBeDefined();
      const params = Object.fromEntries([...e.path.matchAll(/\{(\w+)\}/g)].map((m) => [m[1]!, 'x1']));
      expect(() => validateInput(op!, { ...(JSON.parse(e.json) as object), ...params }, false)).not.toThrow();
    }
  });
});
