// The backup file: a versioned header in clear (magic, format, key derivation, box id, times, agent version)
// followed by one AES-256-GCM ciphertext of the packed files. The header is the cipher's additional data, so
// changing any of it (a KDF parameter, the box id) fails decryption like a changed ciphertext byte does.
//
//   "BXBACKUP" | u8 format | u32be header length | header JSON | ciphertext | 16-byte GCM tag
//
// The key comes from a passphrase (scrypt, salt and cost in the header) or from a recipient's X25519 public
// key (ephemeral ECDH + HKDF-SHA-256; only the holder of the private key can decrypt).
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  scryptSync,
  type KeyObject,
} from 'node:crypto';

const MAGIC = Buffer.from('BXBACKUP', 'ascii');
export const BACKUP_FORMAT = 1;
const TAG_BYTES = 16;
const IV_BYTES = 12;
/** Cost of the passphrase KDF: 128 MiB and about half a second on a box; stored, so it can rise later. */
const SCRYPT = { N: 2 ** 17, r: 8, p: 1 } as const;
/** A crafted header must not make restore allocate gigabytes before the tag is even checked. */
const SCRYPT_MAX = { N: 2 ** 20, r: 16, p: 4 } as const;
const HKDF_INFO = 'boxagent backup v1 x25519-hkdf-sha256';

export type BackupKdf =
  | { name: 'scrypt'; salt: string; N: number; r: number; p: number }
  | { name: 'x25519-hkdf-sha256'; salt: string; ephemeralPublicKey: string; recipient: string };

export interface BackupHeader {
  format: number;
  boxId: string;
  createdAt: string;
  agentVersion: string;
  kdf: BackupKdf;
  cipher: 'aes-256-gcm';
  iv: string;
}

/** A backup that cannot be read: not one, damaged, altered, or the wrong secret. The message is one line. */
export class BackupError extends Error {
  override name = 'BackupError';
}

/** How to make the key: a passphrase, or the recipient's public key (PEM, SPKI, X25519). */
export type Sealing = { passphrase: string } | { recipient: KeyObject };
/** How to recover it: the passphrase, or the recipient's private key. */
export type Opening = { passphrase: string } | { identity: KeyObject };

export interface PackedFile {
  name: string;
  mode: number;
  data: Buffer;
}

// ---- keys ----

/** A new X25519 pair for `backup keygen`, both as PEM. */
export function newRecipientPair(): { publicPem: string; privatePem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  return {
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}

export function readRecipient(pem: string, file: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new BackupError(`${file} is not a PEM public key`);
  }
  if (key.asymmetricKeyType !== 'x25519') {
    throw new BackupError(
      `${file} is a ${key.asymmetricKeyType ?? 'unknown'} key; backups need an X25519 key (boxagent backup keygen)`,
    );
  }
  return key;
}

export function readIdentity(pem: string, file: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new BackupError(`${file} is not a PEM private key`);
  }
  if (key.asymmetricKeyType !== 'x25519') {
    throw new BackupError(
      `${file} is a ${key.asymmetricKeyType ?? 'unknown'} key; backups need an X25519 key`,
    );
  }
  return key;
}

/** The raw 32 bytes of an X25519 public key (from its SPKI DER, whose last 32 bytes they are). */
function rawPublic(key: KeyObject): Buffer {
  const der = key.export({ type: 'spki', format: 'der' });
  return der.subarray(der.length - 32);
}

/** A short, printable name for a recipient key: who a backup was made for. */
export function keyFingerprint(key: KeyObject): string {
  return createHash('sha256').update(rawPublic(key)).digest('hex').slice(0, 32);
}

function x25519PublicFromRaw(raw: Buffer): KeyObject {
  // SPKI prefix of an X25519 key (RFC 8410): SEQUENCE { SEQUENCE { OID 1.3.101.110 } BIT STRING }.
  const prefix = Buffer.from('302a300506032b656e032100', 'hex');
  return createPublicKey({ key: Buffer.concat([prefix, raw]), format: 'der', type: 'spki' });
}

function scryptKey(passphrase: string, kdf: { salt: string; N: number; r: number; p: number }): Buffer {
  const { N, r, p } = kdf;
  return scryptSync(passphrase.normalize('NFC'), Buffer.from(kdf.salt, 'base64'), 32, {
    N,
    r,
    p,
    maxmem: 256 * N * r + 1024 * 1024,
  });
}

function hkdfKey(shared: Buffer, salt: string, ephemeral: Buffer, recipient: Buffer): Buffer {
  const info = Buffer.concat([Buffer.from(HKDF_INFO), ephemeral, recipient]);
  return Buffer.from(hkdfSync('sha256', shared, Buffer.from(salt, 'base64'), info, 32));
}

function sealKey(sealing: Sealing): { kdf: BackupKdf; key: Buffer } {
  const salt = randomBytes(32).toString('base64');
  if ('passphrase' in sealing) {
    const kdf = { name: 'scrypt' as const, salt, ...SCRYPT };
    return { kdf, key: scryptKey(sealing.passphrase, kdf) };
  }
  const eph = generateKeyPairSync('x25519');
  const shared = diffieHellman({ privateKey: eph.privateKey, publicKey: sealing.recipient });
  const ephRaw = rawPublic(eph.publicKey);
  const kdf: BackupKdf = {
    name: 'x25519-hkdf-sha256',
    salt,
    ephemeralPublicKey: ephRaw.toString('base64'),
    recipient: keyFingerprint(sealing.recipient),
  };
  return { kdf, key: hkdfKey(shared, salt, ephRaw, rawPublic(sealing.recipient)) };
}

function openKey(kdf: BackupKdf, opening: Opening): Buffer {
  if (kdf.name === 'scrypt') {
    if (!('passphrase' in opening))
      throw new BackupError('this backup is sealed with a passphrase, not a key');
    if (
      kdf.N > SCRYPT_MAX.N ||
      kdf.r > SCRYPT_MAX.r ||
      kdf.p > SCRYPT_MAX.p ||
      kdf.N < 2 ||
      (kdf.N & (kdf.N - 1)) !== 0
    ) {
      throw new BackupError(
        'the backup header asks for scrypt parameters outside the accepted range (damaged?)',
      );
    }
    return scryptKey(opening.passphrase, kdf);
  }
  if (!('identity' in opening)) {
    throw new BackupError(
      `this backup is sealed for recipient key ${kdf.recipient}: restore with --identity PRIVATE.pem`,
    );
  }
  const mine = createPublicKey(opening.identity);
  if (keyFingerprint(mine) !== kdf.recipient) {
    throw new BackupError(
      `this backup is sealed for recipient key ${kdf.recipient}, not for ${keyFingerprint(mine)}`,
    );
  }
  const ephRaw = Buffer.from(kdf.ephemeralPublicKey, 'base64');
  if (ephRaw.length !== 32) throw new BackupError('the backup header is damaged (ephemeral key)');
  const shared = diffieHellman({ privateKey: opening.identity, publicKey: x25519PublicFromRaw(ephRaw) });
  return hkdfKey(shared, kdf.salt, ephRaw, rawPublic(mine));
}

// ---- packing ----

/** u32be manifest length | manifest JSON [{name, mode, size}] | the files' bytes in that order. */
function pack(files: PackedFile[]): Buffer[] {
  const manifest = Buffer.from(
    JSON.stringify(files.map((f) => ({ name: f.name, mode: f.mode, size: f.data.length }))),
  );
  const len = Buffer.alloc(4);
  len.writeUInt32BE(manifest.length);
  return [len, manifest, ...files.map((f) => f.data)];
}

function unpack(plain: Buffer): PackedFile[] {
  const len = plain.readUInt32BE(0);
  const entries = JSON.parse(plain.subarray(4, 4 + len).toString('utf8')) as {
    name: string;
    mode: number;
    size: number;
  }[];
  let at = 4 + len;
  return entries.map((e) => {
    const data = plain.subarray(at, at + e.size);
    at += e.size;
    return { name: e.name, mode: e.mode, data };
  });
}

// ---- the file ----

export interface SealOptions {
  boxId: string;
  agentVersion: string;
  createdAt?: string;
}

/** The whole backup file for `files`, sealed as `sealing` says. */
export function sealBackup(
  files: PackedFile[],
  sealing: Sealing,
  opts: SealOptions,
): { bytes: Buffer; header: BackupHeader } {
  const { kdf, key } = sealKey(sealing);
  const iv = randomBytes(IV_BYTES);
  const header: BackupHeader = {
    format: BACKUP_FORMAT,
    boxId: opts.boxId,
    createdAt: opts.createdAt ?? new Date().toISOString(),
    agentVersion: opts.agentVersion,
    kdf,
    cipher: 'aes-256-gcm',
    iv: iv.toString('base64'),
  };
  const headerJson = Buffer.from(JSON.stringify(header), 'utf8');
  const lead = Buffer.alloc(MAGIC.length + 5);
  MAGIC.copy(lead);
  lead.writeUInt8(BACKUP_FORMAT, MAGIC.length);
  lead.writeUInt32BE(headerJson.length, MAGIC.length + 1);
  const aad = Buffer.concat([lead, headerJson]);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const body = pack(files).map((chunk) => cipher.update(chunk));
  body.push(cipher.final());
  key.fill(0);
  return { bytes: Buffer.concat([aad, ...body, cipher.getAuthTag()]), header };
}

/** The header alone (no secret needed): what a backup is, before asking for its passphrase. */
export function readBackupHeader(bytes: Buffer): { header: BackupHeader; aadLength: number } {
  if (bytes.length < MAGIC.length + 5 + TAG_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new BackupError('not a boxagent backup (no BXBACKUP header)');
  }
  const format = bytes.readUInt8(MAGIC.length);
  if (format !== BACKUP_FORMAT) {
    throw new BackupError(`backup format ${format} is not one this boxagent reads (${BACKUP_FORMAT})`);
  }
  const len = bytes.readUInt32BE(MAGIC.length + 1);
  const aadLength = MAGIC.length + 5 + len;
  if (aadLength + TAG_BYTES > bytes.length) throw new BackupError('the backup is truncated or damaged');
  let header: BackupHeader;
  try {
    header = JSON.parse(bytes.subarray(MAGIC.length + 5, aadLength).toString('utf8')) as BackupHeader;
  } catch {
    throw new BackupError('the backup header is damaged');
  }
  if (
    header.cipher !== 'aes-256-gcm' ||
    typeof header.iv !== 'string' ||
    typeof header.kdf?.name !== 'string'
  ) {
    throw new BackupError('the backup header is damaged');
  }
  return { header, aadLength };
}

/**
 * The files in a backup. Nothing comes out unless the whole file authenticates: a wrong secret, a changed
 * byte anywhere (header included) or a cut tail all throw the same BackupError.
 */
export function openBackup(bytes: Buffer, opening: Opening): { header: BackupHeader; files: PackedFile[] } {
  const { header, aadLength } = readBackupHeader(bytes);
  const key = openKey(header.kdf, opening);
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(header.iv, 'base64'));
  decipher.setAAD(bytes.subarray(0, aadLength));
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  let plain: Buffer;
  try {
    plain = Buffer.concat([
      decipher.update(bytes.subarray(aadLength, bytes.length - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch {
    const secret = header.kdf.name === 'scrypt' ? 'wrong passphrase' : 'wrong key';
    throw new BackupError(`cannot decrypt the backup: ${secret}, or the file was altered or damaged`);
  } finally {
    key.fill(0);
  }
  try {
    return { header, files: unpack(plain) };
  } catch {
    throw new BackupError('the backup decrypts but its contents are malformed');
  }
}
