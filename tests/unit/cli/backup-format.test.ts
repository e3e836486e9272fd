// The backup file format on its own (no CLI): what authenticates, what is refused before any heavy work.
import { describe, expect, it } from 'vitest';
import {
  BackupError,
  newRecipientPair,
  openBackup,
  readBackupHeader,
  readIdentity,
  readRecipient,
  sealBackup,
} from '../../../agent/backup/backup-format.js';

const FILES = [
  { name: 'state.db', mode: 0o600, data: Buffer.from('database bytes') },
  { name: 'audit.key', mode: 0o600, data: Buffer.alloc(32, 7) },
];
const OPTS = { boxId: 'box-1', agentVersion: '0.1.0' };

/** Rewrites the clear header (as an attacker could) and keeps the rest of the file. */
function withHeader(bytes: Buffer, edit: (h: Record<string, unknown>) => void): Buffer {
  const len = bytes.readUInt32BE(9);
  const header = JSON.parse(bytes.subarray(13, 13 + len).toString('utf8')) as Record<string, unknown>;
  edit(header);
  const json = Buffer.from(JSON.stringify(header));
  const lead = Buffer.from(bytes.subarray(0, 13));
  lead.writeUInt32BE(json.length, 9);
  return Buffer.concat([lead, json, bytes.subarray(13 + len)]);
}

describe('backup format', () => {
  it('round-trips with a passphrase and carries the header in clear', () => {
    const { bytes } = sealBackup(FILES, { passphrase: 'a long passphrase' }, OPTS);
    expect(readBackupHeader(bytes).header).toMatchObject({
      format: 1,
      boxId: 'box-1',
      agentVersion: '0.1.0',
    });
    const { files } = openBackup(bytes, { passphrase: 'a long passphrase' });
    expect(files.map((f) => [f.name, f.data.toString('hex')])).toEqual(
      FILES.map((f) => [f.name, f.data.toString('hex')]),
    );
  });

  it('refuses a header changed to another box id (the header is authenticated)', () => {
    const { bytes } = sealBackup(FILES, { passphrase: 'a long passphrase' }, OPTS);
    const forged = withHeader(bytes, (h) => (h.boxId = 'box-2'));
    expect(() => openBackup(forged, { passphrase: 'a long passphrase' })).toThrow(
      /cannot decrypt the backup/,
    );
  });

  it('refuses scrypt costs beyond the accepted range before deriving anything', () => {
    const { bytes } = sealBackup(FILES, { passphrase: 'a long passphrase' }, OPTS);
    const heavy = withHeader(bytes, (h) => ((h.kdf as { N: number }).N = 2 ** 30));
    expect(() => openBackup(heavy, { passphrase: 'a long passphrase' })).toThrow(
      /outside the accepted range/,
    );
  });

  it('opens a recipient backup only with the matching private key', () => {
    const mine = newRecipientPair();
    const other = newRecipientPair();
    const { bytes } = sealBackup(FILES, { recipient: readRecipient(mine.publicPem, 'pub') }, OPTS);
    expect(() => openBackup(bytes, { identity: readIdentity(other.privatePem, 'other') })).toThrow(
      /sealed for recipient key/,
    );
    expect(() => openBackup(bytes, { passphrase: 'x' })).toThrow(BackupError);
    const { files } = openBackup(bytes, { identity: readIdentity(mine.privatePem, 'mine') });
    expect(files[1]?.data.equals(FILES[1]!.data)).toBe(true);
  });

  it('refuses a non-X25519 key for --recipient', () => {
    expect(() => readRecipient('not a key', 'f.pem')).toThrow(/not a PEM public key/);
  });
});
