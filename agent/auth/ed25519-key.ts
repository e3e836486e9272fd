// Ed25519 public keys as the config gives them (fleet request keys, release keys): base64 of the 32 raw
// bytes, or PEM (SPKI).
import { createPublicKey, type KeyObject } from 'node:crypto';

// DER prefix of an Ed25519 SubjectPublicKeyInfo; the 32 raw key bytes follow it.
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** The key, or an Error saying why the text is not an Ed25519 public key. */
export function ed25519PublicKey(text: string): KeyObject {
  let key: KeyObject;
  if (text.trimStart().startsWith('-----BEGIN')) key = createPublicKey(text);
  else {
    const raw = Buffer.from(text, 'base64');
    if (raw.length !== 32) throw new Error('not 32 bytes');
    key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`a ${key.asymmetricKeyType ?? 'unknown'} key`);
  return key;
}
