// Face templates at rest: each embedding is encrypted with the box's face.key and bound to its template,
// person and model ids, so a row copied onto another person or model does not decrypt.
import { randomUUID } from 'node:crypto';
import type { PersonRepository, TemplateRecord } from '../store/persons.js';
import { TemplateCipher } from './template-cipher.js';

export class StoredTemplates {
  private constructor(
    private readonly persons: PersonRepository,
    private readonly cipher: TemplateCipher,
  ) {}

  /** Opens the key in `storageDir`, made on first use only (never while templates are stored). */
  static open(persons: PersonRepository, storageDir: string): StoredTemplates {
    return new StoredTemplates(persons, TemplateCipher.open(storageDir, persons.templateCount()));
  }

  /** Encrypts and stores one template; call it inside the transaction that audits the change. */
  add(personId: string, modelId: string, embedding: Float32Array): void {
    const templateId = randomUUID();
    const ciphertext = this.cipher.encrypt(embedding, { templateId, personId, modelId });
    this.persons.addTemplate({ id: templateId, personId, modelId, ciphertext });
  }

  /** The embeddings of these stored templates; throws TemplateKeyError when one does not decrypt. */
  decrypt(templates: TemplateRecord[]): Float32Array[] {
    return templates.map((t) => this.decryptOne(t));
  }

  /**
   * Every stored template of `modelId`, decrypted, to `each`. Templates of other models and templates that
   * do not decrypt (key lost or replaced) are skipped and counted.
   */
  forEachOf(
    modelId: string,
    each: (personId: string, embedding: Float32Array) => void,
  ): { otherModel: number; undecryptable: number } {
    let otherModel = 0;
    let undecryptable = 0;
    for (const t of this.persons.allTemplates()) {
      if (t.modelId !== modelId) {
        otherModel++;
        continue;
      }
      let embedding: Float32Array;
      try {
        embedding = this.decryptOne(t);
      } catch {
        undecryptable++;
        continue;
      }
      each(t.personId, embedding);
    }
    return { otherModel, undecryptable };
  }

  private decryptOne(t: TemplateRecord): Float32Array {
    return this.cipher.decrypt(t.ciphertext, { templateId: t.id, personId: t.personId, modelId: t.modelId });
  }
}
