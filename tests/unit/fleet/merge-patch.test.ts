// RFC 7386 merge patch (the examples of its Appendix A), the patch between two documents, and the fleet's
// rules on top: devices keyed by id, implicit removals found, overridden local keys listed.
import { describe, expect, it } from 'vitest';
import {
  applyMergePatch,
  changes,
  mergePatchBetween,
  patchLeaves,
  type Json,
} from '../../../agent/fleet/merge-patch.js';
import {
  implicitRemovals,
  keyed,
  overriddenKeys,
  resolveFleetConfig,
  type FleetSections,
} from '../../../agent/fleet/fleet-sections.js';
import { parseConfig } from '../../../config/load.js';

describe('RFC 7386 merge patch', () => {
  const cases: [Json, Json, Json][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [
      ['a', 'b'],
      ['c', 'd'],
      ['c', 'd'],
    ],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  it.each(cases)('%j patched with %j is %j', (target, patch, result) => {
    expect(applyMergePatch(target, patch)).toEqual(result);
  });

  it('finds the patch between two documents, and what changed, as pointers', () => {
    const from = { a: { b: 1, c: 2 }, d: [1], 'x/y': 1 };
    const to = { a: { b: 1, c: 3 }, e: 'new', 'x/y': 2 };
    const patch = mergePatchBetween(from, to);
    expect(patch).toEqual({ a: { c: 3 }, d: null, e: 'new', 'x/y': 2 });
    expect(applyMergePatch(from, patch)).toEqual(to);
    expect(patchLeaves(patch)).toEqual(['/d', '/a/c', '/e', '/x~1y']);
    expect(changes(from, to).map((c) => c.pointer)).toEqual(['/a/c', '/d', '/x~1y', '/e']);
  });
});

describe('fleet-owned sections as a merge patch', () => {
  const local = (): FleetSections => {
    const c = parseConfig(
      `box: { id: box-1 }
devices:
  - { id: printer-1, kind: printer, name: Local, transport: { type: serial, path: /dev/ttyS0 } }
  - { id: seal-1, kind: seal, transport: { type: simulated } }
`,
      'test.yaml',
    );
    return { devices: c.devices, supervision: c.supervision, alerts: c.alerts };
  };

  it('keeps every local device when the patch has no devices, and adds or removes by id', () => {
    const none = resolveFleetConfig(local(), { supervision: { probeIntervalMs: 500 } });
    if (!none.ok) throw new Error(none.errors.join());
    expect(none.sections.devices.map((d) => d.id)).toEqual(['printer-1', 'seal-1']);
    const edited = resolveFleetConfig(local(), {
      devices: {
        'printer-1': { transport: { path: '/dev/ttyS1' } },
        'seal-1': null,
        'p-2': { kind: 'printer', transport: { type: 'simulated' } },
      },
    });
    if (!edited.ok) throw new Error(edited.errors.join());
    expect(edited.sections.devices.map((d) => d.id)).toEqual(['printer-1', 'p-2']);
    expect(edited.sections.devices[0]).toMatchObject({
      name: 'Local',
      transport: { type: 'serial', path: '/dev/ttyS1' },
    });
  });

  it('refuses a list of devices, a foreign section and an invalid result, naming the device', () => {
    expect(resolveFleetConfig(local(), { devices: [] })).toMatchObject({
      ok: false,
      errors: [expect.stringMatching(/keyed by device id/)],
    });
    expect(resolveFleetConfig(local(), { http: { port: 1 } })).toMatchObject({
      ok: false,
      errors: [expect.stringMatching(/^http: not fleet-owned/)],
    });
    const bad = resolveFleetConfig(local(), { devices: { 'printer-1': { transport: { baudRate: 96000 } } } });
    expect(bad).toMatchObject({
      ok: false,
      errors: [expect.stringMatching(/^config\.devices\.printer-1\.transport\.baudRate: 96000/)],
    });
  });

  it('finds devices dropped without null, and the local keys a patch overrides', () => {
    const added = resolveFleetConfig(local(), {
      devices: { 'p-2': { kind: 'printer', transport: { type: 'simulated' } } },
    });
    const next = resolveFleetConfig(local(), {});
    if (!added.ok || !next.ok) throw new Error('unexpected');
    expect(implicitRemovals(added.sections, next.sections, {})).toEqual(['p-2']);
    expect(implicitRemovals(added.sections, next.sections, { devices: { 'p-2': null } })).toEqual([]);
    const patch = {
      devices: {
        'printer-1': { name: 'Local', transport: { path: '/dev/ttyS1' } },
        'seal-1': null,
        'p-2': {},
      },
    };
    expect(overriddenKeys(keyed(local()), patch)).toEqual([
      '/devices/printer-1/transport/path',
      '/devices/seal-1',
    ]);
  });
});
