// Signed RPC requests: an Ed25519 signature by a fleet key over the operation, its params, the box id, a
// timestamp and a nonce. The timestamp must be within the replay window and the nonce unused within it. A
// valid signature gives the request its key's role; high-risk operations (`mqtt.signing.required`) run only
// when signed. Fleet tools sign with `signRequest` (same canonical form).
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { Config } from '../../config/schema.js';
import type { Principal } from '../auth/token-service.js';
import { canonicalJson } from '../operations/dispatch.js';
import { Problem } from '../problems/problem.js';
import { FleetConfigError } from './connect-options.js';

export interface RequestSignature {
  keyId: string;
  /** Unix time in seconds. */
  timestamp: number;
  /** Unique per request (8-64 characters). */
  nonce: string;
  /** base64 of the 64-byte signature. */
  value: string;
}

// DER prefix of an Ed25519 SubjectPublicKeyInfo; the 32 raw key bytes follow it.
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** The bytes that are signed. */
export function signedBytes(
  operation: string,
  params: unknown,
  boxId: string,
  s: Pick<RequestSignature, 'timestamp' | 'nonce'>,
): Buffer {
  const paramsHash = createHash('sha256').update(canonicalJson(params)).digest('hex');
  return Buffer.from(
    ['boxagent-rpc-v1', operation, boxId, String(s.timestamp), s.nonce, paramsHash].join('\n'),
  );
}

export function signRequest(
  privateKey: KeyObject,
  keyId: string,
  operation: string,
  params: unknown,
  boxId: string,
  timestamp = Math.floor(Date.now() / 1000),
  nonce = createHash('sha256')
    .update(`${Math.random()}${process.hrtime.bigint()}`)
    .digest('hex')
    .slice(0, 32),
): RequestSignature {
  const value = sign(null, signedBytes(operation, params, boxId, { timestamp, nonce }), privateKey).toString(
    'base64',
  );
  return { keyId, timestamp, nonce, value };
}

function publicKey(keyId: string, text: string): KeyObject {
  try {
    if (text.trimStart().startsWith('-----BEGIN')) return createPublicKey(text);
    const raw = Buffer.from(text, 'base64');
    if (raw.length !== 32) throw new Error('not 32 bytes');
    return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  } catch (err) {
    throw new FleetConfigError(
      `mqtt.signing.keys.${keyId}.publicKey: not an Ed25519 public key (${(err as Error).message})`,
    );
  }
}

export class RequestVerifier {
  private readonly keys = new Map<string, { key: KeyObject; principal: Principal }>();
  private readonly seen = new Map<string, number>();

  /** Checks the keys and roles (throws FleetConfigError). */
  constructor(
    private readonly mqtt: Config['mqtt'],
    private readonly boxId: string,
    private readonly now: () => number = Date.now,
  ) {
    for (const [keyId, k] of Object.entries(mqtt.signing.keys)) {
      const scopes = mqtt.roles[k.role];
      if (!scopes)
        throw new FleetConfigError(
          `mqtt.signing.keys.${keyId}.role: "${k.role}" is not a role of mqtt.roles`,
        );
      this.keys.set(keyId, {
        key: publicKey(keyId, k.publicKey),
        principal: { tokenId: `mqtt-key:${keyId}`, name: `fleet-key:${keyId}`, scopes },
      });
    }
  }

  requiresSignature(operation: string): boolean {
    return this.mqtt.signing.required.some((p) =>
      p.endsWith('*') ? operation.startsWith(p.slice(0, -1)) : p === operation,
    );
  }

  /**
   * The principal a request runs as: its key's when signed (and the signature holds), `fallback` when unsigned
   * and the operation does not need a signature. Otherwise a `bad-signature` problem.
   */
  principalFor(operation: string, params: unknown, signature: unknown, fallback: Principal): Principal {
    if (signature === undefined) {
      if (this.requiresSignature(operation))
        throw new Problem('bad-signature', `operation ${operation} must be signed`);
      return fallback;
    }
    const s = parseSignature(signature);
    const entry = this.keys.get(s.keyId);
    if (!entry) throw new Problem('bad-signature', `unknown key "${s.keyId}"`);
    const windowMs = this.mqtt.signing.replayWindowSeconds * 1000;
    const now = this.now();
    if (Math.abs(now - s.timestamp * 1000) > windowMs) {
      throw new Problem('bad-signature', 'the signature timestamp is outside the replay window');
    }
    const ok = verify(
      null,
      signedBytes(operation, params, this.boxId, s),
      entry.key,
      Buffer.from(s.value, 'base64'),
    );
    if (!ok) throw new Problem('bad-signature', 'the signature does not match the request');
    for (const [nonce, expires] of this.seen) if (expires < now) this.seen.delete(nonce);
    const nonceKey = `${s.keyId}\0${s.nonce}`;
    if (this.seen.has(nonceKey))
      throw new Problem('bad-signature', 'this signed request was already received (replay)');
    this.seen.set(nonceKey, now + 2 * windowMs);
    return entry.principal;
  }
}

function parseSignature(v: unknown): RequestSignature {
  const s = v as Partial<Record<keyof RequestSignature, unknown>>;
  const timestamp = typeof s?.timestamp === 'string' ? Number(s.timestamp) : s?.timestamp;
  if (
    typeof s !== 'object' ||
    s === null ||
    typeof s.keyId !== 'string' ||
    typeof timestamp !== 'number' ||
    !Number.isInteger(timestamp) ||
    typeof s.nonce !== 'string' ||
    !/^[\x21-\x7e]{8,64}$/.test(s.nonce) ||
    typeof s.value !== 'string'
  ) {
    throw new Problem(
      'bad-signature',
      'a signature needs keyId, timestamp (unix seconds), nonce (8-64 characters) and value (base64)',
    );
  }
  return { keyId: s.keyId, timestamp, nonce: s.nonce, value: s.value };
}
