// Signed fleet messages. An RPC request is signed by a fleet key (Ed25519) over the operation, its params, the
// box id, a timestamp and a nonce; the timestamp must be within the replay window and the nonce never used
// before (kept in SQLite, so across restarts too). A valid signature gives the request its key's role. What
// must be signed is `mqtt.signing.required`: risk classes of the catalog (`risk:<class>`) and operation
// names. Fleet tools sign with `signRequest` (same canonical form). Desired config documents are verified
// here too (`verifyDesiredConfig`, bytes in `config-signing.ts`).
import { createHash, sign, verify, type KeyObject } from 'node:crypto';
import { RISKS, type Config, type Risk } from '../../config/schema.js';
import type { Principal } from '../auth/token-service.js';
import { CanonicalJsonError, canonicalJson } from '../operations/canonical-json.js';
import type { AnyOperation } from '../operations/operation.js';
import { Problem } from '../problems/problem.js';
import { desiredConfigBytes, type ConfigSignature } from './config-signing.js';
import { FleetConfigError } from './connect-options.js';
import { ed25519PublicKey } from '../auth/ed25519-key.js';
import { t } from '../messages/text.js';

/** Where used nonces are claimed (the store's `nonces`). */
export interface NonceClaims {
  /** False when the nonce was already used (a replay). */
  claim(keyId: string, nonce: string, expiresAt: number, now: number): boolean;
}

export interface RequestSignature {
  keyId: string;
  /** Unix time in seconds. */
  timestamp: number;
  /** Unique per request (8-64 characters). */
  nonce: string;
  /** base64 of the 64-byte signature. */
  value: string;
}

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
    return ed25519PublicKey(text);
  } catch (err) {
    throw new FleetConfigError(
      `mqtt.signing.keys.${keyId}.publicKey: not an Ed25519 public key (${(err as Error).message})`,
    );
  }
}

export class RequestVerifier {
  private readonly keys = new Map<string, { key: KeyObject; principal: Principal }>();
  private readonly risks: Set<Risk>;
  private readonly patterns: string[];

  /** Checks the keys, roles and risk classes (throws FleetConfigError). */
  constructor(
    private readonly mqtt: Config['mqtt'],
    private readonly boxId: string,
    private readonly nonces: NonceClaims,
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
    const classes = mqtt.signing.required.filter((p) => p.startsWith('risk:')).map((p) => p.slice(5));
    const unknown = classes.find((c) => !(RISKS as readonly string[]).includes(c));
    if (unknown !== undefined)
      throw new FleetConfigError(
        `mqtt.signing.required: "risk:${unknown}" is not a risk class (${RISKS.join(', ')})`,
      );
    this.risks = new Set(classes as Risk[]);
    this.patterns = mqtt.signing.required.filter((p) => !p.startsWith('risk:'));
  }

  /** True when `op` with these params (as sent) runs only when signed. */
  requiresSignature(
    op: Pick<AnyOperation, 'name' | 'risk' | 'riskOf' | 'alwaysSigned'>,
    params: Record<string, unknown>,
  ): boolean {
    if (op.alwaysSigned === true) return true;
    if (this.risks.has(op.risk) || this.risks.has(op.riskOf?.(params) ?? op.risk)) return true;
    return this.patterns.some((p) => (p.endsWith('*') ? op.name.startsWith(p.slice(0, -1)) : p === op.name));
  }

  /**
   * The principal a request runs as: its key's when signed (and the signature holds; its nonce is then used
   * up for good), `fallback` when unsigned and the operation does not need a signature. Otherwise a
   * `bad-signature` problem.
   */
  principalFor(
    op: Pick<AnyOperation, 'name' | 'risk' | 'riskOf' | 'alwaysSigned'>,
    params: Record<string, unknown>,
    signature: unknown,
    fallback: Principal,
  ): Principal {
    const operation = op.name;
    if (signature === undefined) {
      if (this.requiresSignature(op, params))
        throw new Problem('bad-signature', t`operation ${operation} must be signed`);
      return fallback;
    }
    const s = parseSignature(signature);
    const windowMs = this.mqtt.signing.replayWindowSeconds * 1000;
    const now = this.now();
    if (Math.abs(now - s.timestamp * 1000) > windowMs) {
      throw new Problem('bad-signature', t`the signature timestamp is outside the replay window`);
    }
    const principal = this.check(
      s.keyId,
      unsignable(() => signedBytes(operation, params, this.boxId, s)),
      s.value,
    );
    // Kept until the timestamp leaves the window: after that the timestamp check refuses a replay.
    if (!this.nonces.claim(s.keyId, s.nonce, s.timestamp * 1000 + windowMs, now))
      throw new Problem('bad-signature', t`this signed request was already received (replay)`);
    return principal;
  }

  /**
   * Checks a desired config document's signature: a key of `mqtt.signing.keys` whose role has `admin`, over
   * the canonical bytes of box id, version and config. Throws a `bad-signature` problem.
   */
  verifyDesiredConfig(version: number, config: unknown, signature: unknown): Principal {
    if (signature === undefined) throw new Problem('bad-signature', t`the desired config is not signed`);
    if (!isConfigSignature(signature))
      throw new Problem('bad-signature', t`a signature needs keyId and value (base64)`);
    const s = signature;
    const principal = this.check(
      s.keyId,
      unsignable(() => desiredConfigBytes(this.boxId, version, config)),
      s.value,
    );
    if (!principal.scopes.includes('admin'))
      throw new Problem(
        'bad-signature',
        t`key "${s.keyId}" may not sign config (its role has no admin scope)`,
      );
    return principal;
  }

  private check(keyId: string, bytes: Buffer, value: string): Principal {
    const entry = this.keys.get(keyId);
    if (!entry) throw new Problem('bad-signature', t`unknown key "${keyId}"`);
    if (!verify(null, bytes, entry.key, Buffer.from(value, 'base64')))
      throw new Problem('bad-signature', t`the signature does not match`);
    return entry.principal;
  }
}

/** The signed bytes, or `bad-signature` when the value has no RFC 8785 form (so nothing could sign it). */
function unsignable(bytes: () => Buffer): Buffer {
  try {
    return bytes();
  } catch (err) {
    if (err instanceof CanonicalJsonError)
      throw new Problem('bad-signature', t`no RFC 8785 canonical form: ${err.message}`);
    throw err;
  }
}

function isConfigSignature(v: unknown): v is ConfigSignature {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return typeof s.keyId === 'string' && typeof s.value === 'string';
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
      t`a signature needs keyId, timestamp (unix seconds), nonce (8-64 characters) and value (base64)`,
    );
  }
  return { keyId: s.keyId, timestamp, nonce: s.nonce, value: s.value };
}
