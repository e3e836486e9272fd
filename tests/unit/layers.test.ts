// The layer rules of DESIGN.md are lint errors: the project's own eslint.config.js, run on import lines as
// if they were in a file of each layer. Type-aware rules are switched off here: the files do not exist, and
// the import rule needs no types.
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const eslint = new ESLint({
  cwd: root,
  overrideConfig: [tseslint.configs.disableTypeChecked],
});

/** The messages of the import rule for one import line in a file at `filePath`. */
async function importErrors(filePath: string, from: string): Promise<string[]> {
  const code = `import { x } from '${from}';\nexport const y = x;\n`;
  const [result] = await eslint.lintText(code, { filePath: `${root}${filePath}` });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layer rules', () => {
  it.each([
    ['drivers/printer/new-driver.ts', '../../agent/log.js'],
    ['drivers/printer/new-driver.ts', '../../config/schema.js'],
    ['drivers/new-device.ts', '../agent/problems/problem.js'],
    ['agent/printing/new-service.ts', '../operations/catalog.js'],
    ['agent/sealing/new-service.ts', '../http/problem-reply.js'],
    ['agent/face/new-service.ts', '../fleet/contract.js'],
    ['agent/photos/new-service.ts', '../cli/support.js'],
    ['agent/a-new-service/x.ts', '../operations/dispatch.js'],
    ['agent/printing/new-service.ts', '../services.js'],
    ['agent/store/new-repo.ts', '../printing/print-service.js'],
    ['agent/devices/new-part.ts', '../operations/catalog.js'],
    ['agent/events/new-part.ts', '../fleet/contract.js'],
    ['agent/problems/new-part.ts', '../http/server.js'],
    ['agent/problems/new-part.ts', '../jobs/engine.js'],
    ['agent/messages/new-table.ts', '../http/problem-reply.js'],
    ['agent/messages/new-table.ts', '../face/capture-judge.js'],
  ])('refuse %s importing %s', async (file, from) => {
    const errors = await importErrors(file, from);
    expect(errors).toHaveLength(1);
  });

  it.each([
    ['drivers/printer/new-driver.ts', '../transport/serial.js'],
    ['drivers/printer/new-driver.ts', '../device.js'],
    ['agent/printing/new-service.ts', '../problems/problem.js'],
    ['agent/printing/new-service.ts', '../devices/device-manager.js'],
    ['agent/printing/new-service.ts', '../../drivers/printer/layout.js'],
    ['agent/certificates/new-service.ts', '../sealing/seal-service.js'],
    ['agent/store/new-repo.ts', './statements.js'],
    ['agent/events/new-part.ts', '../store/store.js'],
    ['agent/devices/new-part.ts', '../../drivers/device.js'],
    ['agent/devices/new-part.ts', '../../config/schema.js'],
    ['agent/operations/new-ops.ts', '../problems/problem.js'],
    ['agent/problems/new-part.ts', '../messages/text.js'],
    ['agent/face/new-service.ts', '../messages/catalog.js'],
    ['agent/http/new-route.ts', '../operations/catalog.js'],
  ])('allow %s importing %s', async (file, from) => {
    expect(await importErrors(file, from)).toEqual([]);
  });

  it('say why in the message', async () => {
    const [message] = await importErrors('agent/printing/new-service.ts', '../operations/problems.js');
    expect(message).toMatch(/services sit below the operations and the adapters/);
  });
});
