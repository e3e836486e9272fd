// The signed desired config's worked example in docs/mqtt.md is a test vector: the bytes and signature below
// are written out by hand (not recomputed by the code under test), checked with node:crypto alone, and
// accepted by the box's verifier for that box and version only.
import { createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { desiredConfigBytes } from '../../../agent/fleet/config-signing.js';
import { CONFIG_SIGNING_EXAMPLE } from '../../../agent/fleet/contract-doc.js';
import { RequestVerifier } from '../../../agent/fleet/request-signing.js';
import { parseConfig } from '../../../config/load.js';
import { ROOT } from '../../helpers/daemon.js';

// RFC 8032, section 7.1, TEST 1.
const PUBLIC_HEX = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
// A merge patch (issue 18): devices keyed by id, `null` removes one.
const SIGNED =
  '{"boxId":"box-7","config":{"devices":{"printer-1":{"name":"窗口一打印机"},"seal-1":null},' +
  '"supervision":{"probeIntervalMs":5000}},"type":"boxagent-config-v1","version":7}';
const SIGNATURE = 'mzwgWuIL5wi7IhwP+NGQJjr0VkYcv3T2UULif0fmDemdUKn1wqSqnQc3fIiB4yfOBkyciVoSHl8v8azQOEhCDA==';

const e = CONFIG_SIGNING_EXAMPLE;
const publicKey = createPublicKey({
  key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(PUBLIC_HEX, 'hex')]),
  format: 'der',
  type: 'spki',
});

function verifier(boxId: string): RequestVerifier {
  const config = parseConfig(
    `box: { id: ${boxId} }\nmqtt:\n  signing:\n    keys:\n      city-ops: { publicKey: "${e.publicKeyBase64}", role: admin }\n`,
    'test.yaml',
  );
  return new RequestVerifier(config.mqtt, boxId, { claim: () => true });
}

describe('signed desired config (docs/mqtt.md test vector)', () => {
  it('signs the canonical JSON: sorted keys, no spaces, Chinese as UTF-8, box id and version inside', () => {
    expect(Buffer.from(e.publicKeyBase64, 'base64').toString('hex')).toBe(PUBLIC_HEX);
    const bytes = desiredConfigBytes(e.boxId, e.version, e.config);
    expect(bytes.toString('utf8')).toBe(SIGNED);
    // 窗 is E7 AA 97 in UTF-8, not a \u escape.
    expect(bytes.includes(Buffer.from('e7aa97', 'hex'))).toBe(true);
    expect(verify(null, Buffer.from(SIGNED, 'utf8'), publicKey, Buffer.from(SIGNATURE, 'base64'))).toBe(true);
  });

  it('is the example docs/mqtt.md shows', () => {
    const doc = readFileSync(join(ROOT, 'docs/mqtt.md'), 'utf8');
    expect(doc).toContain(SIGNED);
    expect(doc).toContain(`"value": "${SIGNATURE}"`);
    expect(doc).toContain(e.publicKeyBase64);
  });

  it('is accepted by the box it names, for its version only', () => {
    const signature = { keyId: 'city-ops', value: SIGNATURE };
    expect(verifier('box-7').verifyDesiredConfig(7, e.config, signature).scopes).toEqual(['admin']);
    expect(() => verifier('box-8').verifyDesiredConfig(7, e.config, signature)).toThrow(/does not match/);
    expect(() => verifier('box-7').verifyDesiredConfig(8, e.config, signature)).toThrow(/does not match/);
    // Key order in the document as received does not matter; a changed value does.
    const reordered = { devices: e.config.devices, supervision: e.config.supervision };
    expect(verifier('box-7').verifyDesiredConfig(7, reordered, signature).scopes).toEqual(['admin']);
    const changed = { ...e.config, supervision: { probeIntervalMs: 5001 } };
    // Leaving out the null (keeping seal-1) is another document: the removal is signed too.
    const kept = { ...e.config, devices: { 'printer-1': e.config.devices['printer-1'] } };
    expect(() => verifier('box-7').verifyDesiredConfig(7, kept, signature)).toThrow(/does not match/);
    expect(() => verifier('box-7').verifyDesiredConfig(7, changed, signature)).toThrow(/does not match/);
  });
});
