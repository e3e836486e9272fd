// The bytes of a signed desired config document (issue 14): the UTF-8 of the RFC 8785 (JCS) canonical JSON
// (`canonical-json.ts`; Chinese stays UTF-8, never \uXXXX) of {"boxId", "config", "type":
// "boxagent-config-v1", "version"}. The box id and version are inside, so a document signed for one box or
// version is refused by every other.
import { sign, type KeyObject } from 'node:crypto';
import { canonicalJson } from '../operations/canonical-json.js';

export const CONFIG_SIGNATURE_TYPE = 'boxagent-config-v1';

export interface ConfigSignature {
  keyId: string;
  /** base64 of the 64-byte Ed25519 signature. */
  value: string;
}

/** A desired config document as the fleet publishes it on `…/config/desired`. */
export interface SignedDesiredConfig {
  version: number;
  config: unknown;
  signature: ConfigSignature;
}

/** The bytes that are signed. */
export function desiredConfigBytes(boxId: string, version: number, config: unknown): Buffer {
  return Buffer.from(canonicalJson({ boxId, config, type: CONFIG_SIGNATURE_TYPE, version }), 'utf8');
}

/** Signs a desired config document for one box (what a fleet tool does). */
export function signDesiredConfig(
  privateKey: KeyObject,
  keyId: string,
  boxId: string,
  version: number,
  config: unknown,
): SignedDesiredConfig {
  const value = sign(null, desiredConfigBytes(boxId, version, config), privateKey).toString('base64');
  return { version, config, signature: { keyId, value } };
}
