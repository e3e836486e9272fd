// The signed RPC request's worked example in docs/mqtt.md is a test vector: the canonical params, the signed
// bytes and the signature below are written out by hand (the signature was first produced by
// tests/helpers/python-signer.py, not by the code under test), and the box's verifier accepts it.
import { createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_SIGNING_EXAMPLE, RPC_SIGNING_EXAMPLE } from '../../../agent/fleet/contract-doc.js';
import { RequestVerifier, signedBytes } from '../../../agent/fleet/request-signing.js';
import { parseConfig } from '../../../config/load.js';
import { ROOT } from '../../helpers/daemon.js';

const CANONICAL = '{"id":"seal-job-1","note":"印文模糊，已作废","outcome":"failed"}';
const HASH = '64d67872b5e91d639e3e389707bb9f479b86cb6ceccea522481b94c61ac262ca';
const SIGNED = `boxagent-rpc-v1\nseal.resolve\nbox-7\n1796000000\n5f0c2a9e7b3d4a61\n${HASH}`;
const SIGNATURE = 'COJmDgEK/Jt9TJE53SkCTaLaHMK3Pt8651J0A5IkRVfWTkcPQ1WlUnOoBPNPpZnR61j58U2r6g/f3buupOIHBA==';
// The same key as PEM (SubjectPublicKeyInfo), the other accepted form.
const PEM =
  '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n-----END PUBLIC KEY-----\n';

const e = RPC_SIGNING_EXAMPLE;
const now = e.timestamp * 1000;

function verifier(publicKey: string): RequestVerifier {
  const config = parseConfig(
    `box: { id: box-7 }\nmqtt:\n  signing:\n    keys:\n      city-ops: { publicKey: ${JSON.stringify(publicKey)}, role: admin }\n`,
    'test.yaml',
  );
  return new RequestVerifier(config.mqtt, 'box-7', { claim: () => true }, () => now);
}

const op = { name: e.operation, risk: 'document' as const };
const fallback = { tokenId: 'fleet', name: 'fleet', scopes: [] };
const signature = { keyId: 'city-ops', timestamp: e.timestamp, nonce: e.nonce, value: SIGNATURE };

describe('signed RPC request (docs/mqtt.md test vector)', () => {
  it('signs six lines ending in the SHA-256 of the RFC 8785 params, Chinese as UTF-8', () => {
    expect(signedBytes(e.operation, e.params, e.boxId, e).toString('utf8')).toBe(SIGNED);
    expect(verify(null, Buffer.from(SIGNED), createPublicKey(PEM), Buffer.from(SIGNATURE, 'base64'))).toBe(
      true,
    );
  });

  it('is the example docs/mqtt.md shows', () => {
    const doc = readFileSync(join(ROOT, 'docs/mqtt.md'), 'utf8');
    for (const part of [CANONICAL, HASH, SIGNED, SIGNATURE, CONFIG_SIGNING_EXAMPLE.seedHex, e.nonce])
      expect(doc).toContain(part);
    expect(doc).toContain('RFC 8785');
  });

  it('is accepted with the key as raw base64 or as PEM, and refused once a character of the note changes', () => {
    for (const key of [CONFIG_SIGNING_EXAMPLE.publicKeyBase64, PEM])
      expect(verifier(key).principalFor(op, e.params, signature, fallback).name).toBe('fleet-key:city-ops');
    const changed = { ...e.params, note: '印文清晰，已作废' };
    expect(() => verifier(PEM).principalFor(op, changed, signature, fallback)).toThrow(/does not match/);
  });

  it('refuses params with no RFC 8785 form as bad-signature', () => {
    const lone = { ...e.params, note: 'x\ud800' };
    expect(() => verifier(PEM).principalFor(op, lone, signature, fallback)).toThrow(
      /no RFC 8785 canonical form: \/note: a string holds a lone surrogate/,
    );
  });
});
