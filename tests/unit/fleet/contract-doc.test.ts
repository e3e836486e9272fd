// docs/mqtt.md is generated from the operations catalog; this fails when an operation changed and the
// document was not regenerated (`npm run docs`).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENT_CATALOG } from '../../../agent/events/catalog.js';
import { renderMqttContract } from '../../../agent/fleet/contract-doc.js';
import { CATALOG } from '../../../agent/operations/catalog.js';
import { ROOT } from '../../helpers/daemon.js';

describe('docs/mqtt.md', () => {
  it('is current with the operations catalog (run `npm run docs` after changing an operation)', () => {
    const committed = readFileSync(join(ROOT, 'docs/mqtt.md'), 'utf8');
    expect(committed).toBe(renderMqttContract(CATALOG));
  });

  it('lists every operation with its RPC topic and scope', () => {
    const doc = renderMqttContract(CATALOG);
    for (const op of CATALOG) {
      expect(doc).toContain(`- topic: \`boxagent/v1/<boxId>/rpc/${op.name}\``);
    }
  });

  it('lists every event type with its scope and whether it is kept', () => {
    const doc = renderMqttContract(CATALOG);
    for (const [type, d] of Object.entries(EVENT_CATALOG)) {
      expect(doc).toContain(`| \`${type}\` | \`${d.scope}\` | ${d.kept ? 'kept' : 'live-only'} |`);
      expect(doc).toContain(`#### \`${type}\``);
    }
  });
});
