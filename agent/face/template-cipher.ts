// Templates at rest: AES-256-GCM with a per-box key in `<storage>/face.key` (0600), made at first start.
// The additional data binds a ciphertext to its template id, person and model, so a row copied onto
// another person does not decrypt. A lost key cannot be recovered: every person must be enrolled again.
import { existsSync, readFileSync } from 'node:fs';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { writeFileAtomic } from '../../config/atomic-write.js';

export const KEY_FILE = 'face.key';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class TemplateKeyError extends Error {
  override name = 'TemplateKeyError';
}

export interface TemplateBinding {
  templateId: string;
  personId: string;
  modelId: string;
}

export class TemplateCipher {
  private constructor(private readonly key: Buffer) {}

  /**
   * Loads the key from the state directory. A missing key is made (0600) only while no template is stored:
   * a new key cannot decrypt the old templates, so replacing a lost one would silently empty the gallery.
   * Then this throws TemplateKeyError naming the file and the two ways out.
   */
  static open(storageDir: string, storedTemplates = 0): TemplateCipher {
    const file = join(storageDir, KEY_FILE);
    if (!existsSync(file)) {
      if (storedTemplates > 0) {
        throw new TemplateKeyError(
          `${file} is missing while ${storedTemplates} encrypted face templates are stored: restore ${KEY_FILE} from the backup, or run \`boxagent persons purge --yes\` to erase every person and start over`,
        );
      }
      try {
        writeFileAtomic(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, exclusive: true });
      } catch (err) {
        // Another process (daemon or CLI) created it first: use theirs.
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (key.length !== 32) {
      throw new TemplateKeyError(`${file} does not hold a 256-bit key; templates cannot be decrypted`);
    }
    return new TemplateCipher(key);
  }

  encrypt(embedding: Float32Array, b: TemplateBinding): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(aad(b));
    const plain = Buffer.from(embedding.buffer, embedding.byteOffset, embedding.byteLength);
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  }

  /** Throws TemplateKeyError when the key is not the one that encrypted it or the row was altered. */
  decrypt(ciphertext: Buffer, b: TemplateBinding): Float32Array {
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, ciphertext.subarray(0, IV_BYTES));
      decipher.setAAD(aad(b));
      decipher.setAuthTag(ciphertext.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(ciphertext.subarray(IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]);
      return new Float32Array(plain.buffer.slice(plain.byteOffset, plain.byteOffset + plain.byteLength));
    } catch {
      throw new TemplateKeyError(
        `template ${b.templateId} does not decrypt with this box's ${KEY_FILE} (lost or replaced key: re-enrol)`,
      );
    }
  }
}

function aad(b: TemplateBinding): Buffer {
  return Buffer.from(`${b.templateId}\0${b.personId}\0${b.modelId}`, 'utf8');
}
