// Every operation declares a risk class (issue 14), and the classes decide what a fleet request must sign.
// `risk` is a required field of defineOperation, so an operation without one does not compile either.
import { describe, expect, it } from 'vitest';
import { hasScope } from '../../../agent/auth/token-service.js';
import { fleetPrincipal } from '../../../agent/fleet/fleet-link.js';
import { RequestVerifier } from '../../../agent/fleet/request-signing.js';
import { CATALOG, findOperation } from '../../../agent/operations/catalog.js';
import { parseConfig } from '../../../config/load.js';
import { RISKS } from '../../../config/schema.js';

const config = parseConfig('box: { id: box-1 }\n', 'test.yaml');
const verifier = new RequestVerifier(config.mqtt, 'box-1', { claim: () => true });
const needsSignature = (name: string, params: Record<string, unknown> = {}): boolean => {
  const op = findOperation(name);
  if (!op) throw new Error(`no operation ${name}`);
  return verifier.requiresSignature(op, params);
};

describe('risk classes', () => {
  it('every operation of the catalog declares one of the risk classes', () => {
    const missing = CATALOG.filter((op) => !(RISKS as readonly string[]).includes(op.risk)).map(
      (op) => op.name,
    );
    expect(missing).toEqual([]);
  });

  it('by default, over MQTT, anything that reveals or changes a resident, a document or the box needs a signature', () => {
    for (const name of [
      'persons.enroll',
      'persons.addFace',
      'persons.delete',
      'persons.list',
      'persons.get',
      'idcard.card',
      'camera.snapshot',
      'face.capture',
      'face.identify',
      'face.verify',
      'certificates.submit',
      'certificates.list',
      'certificates.resolve',
      'seal.create',
      'seal.confirm',
      'seal.list',
      'seal.resolve',
      'audit.list',
      'devices.simulate',
      'devices.test',
    ])
      expect(needsSignature(name), name).toBe(true);
    expect(needsSignature('print.resolve', { id: 'j', outcome: 'reprint' })).toBe(true);
  });

  it('read-only and printing work runs unsigned', () => {
    for (const name of ['agent.health', 'devices.list', 'print.submit', 'print.list', 'ratings.request'])
      expect(needsSignature(name), name).toBe(false);
    expect(needsSignature('print.resolve', { id: 'j', outcome: 'printed' })).toBe(false);
  });

  it('an unsigned request, with the default role, reaches only read-only and printing work', () => {
    const unsigned = fleetPrincipal(config.mqtt);
    expect(unsigned.scopes).toEqual(['read', 'print']);
    const runnable = CATALOG.filter(
      (op) => hasScope(unsigned, op.scope) && !verifier.requiresSignature(op, {}),
    );
    expect(runnable.filter((op) => op.risk !== 'read' && op.risk !== 'print').map((op) => op.name)).toEqual(
      [],
    );
    expect(runnable.map((op) => op.name)).toContain('print.submit');
  });

  it('a config naming an unknown risk class is refused', () => {
    const bad = parseConfig(
      'box: { id: box-1 }\nmqtt: { signing: { required: ["risk:toast"] } }\n',
      'test.yaml',
    );
    expect(() => new RequestVerifier(bad.mqtt, 'box-1', { claim: () => true })).toThrow(/risk:toast/);
  });
});
