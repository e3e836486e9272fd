// Release signatures: a release key (Ed25519, trusted by the box in `update.releaseKeys`) signs the bytes
// `boxagent-release-v1\n<version>\n<sha256>\n<size>` (sha256 as lowercase hex, size in bytes, no trailing
// newline). The request that asks for an update is signed separately by a fleet key; both must hold.
import { sign, verify, type KeyObject } from 'node:crypto';
import type { Config } from '../../config/schema.js';
import { ed25519PublicKey } from '../auth/ed25519-key.js';

export interface ReleaseFacts {
  version: string;
  sha256: string;
  size: number;
}

export function releaseSignedBytes(r: ReleaseFacts): Buffer {
  return Buffer.from(['boxagent-release-v1', r.version, r.sha256.toLowerCase(), String(r.size)].join('\n'));
}

/** base64 of the Ed25519 signature over the release's facts. */
export function signRelease(privateKey: KeyObject, r: ReleaseFacts): string {
  return sign(null, releaseSignedBytes(r), privateKey).toString('base64');
}

/** The trusted release keys, parsed; a key that is not Ed25519 is named with its config path. */
export function releaseKeys(update: Config['update']): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  for (const [id, k] of Object.entries(update.releaseKeys)) {
    try {
      keys.set(id, ed25519PublicKey(k.publicKey));
    } catch (err) {
      throw new Error(
        `update.releaseKeys.${id}.publicKey: not an Ed25519 public key (${(err as Error).message})`,
      );
    }
  }
  return keys;
}

/** Why a release signature does not hold, or undefined when it does. */
export function releaseSignatureProblem(
  keys: Map<string, KeyObject>,
  keyId: string,
  signature: string,
  r: ReleaseFacts,
): string | undefined {
  const key = keys.get(keyId);
  if (!key)
    return keys.size === 0
      ? 'this box trusts no release key (update.releaseKeys)'
      : `unknown release key "${keyId}"`;
  const value = Buffer.from(signature, 'base64');
  if (value.length !== 64 || !verify(null, releaseSignedBytes(r), key, value))
    return `the release signature does not match (key "${keyId}")`;
  return undefined;
}
