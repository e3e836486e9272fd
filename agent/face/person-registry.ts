// The person registry: enrol a person with their faces, add a face, list and show persons, and erase one
// (the person and every template go; the audit keeps who and when, no biometric data). Every image passes
// the enrolment gate (quality, and liveness for camera captures) before anything is stored.
import { randomUUID } from 'node:crypto';
import type { FaceConfig } from '../../config/schema.js';
import { Problem, type FieldPath } from '../problems/problem.js';
import type { Store } from '../store/store.js';
import type { PersonRecord } from '../store/persons.js';
import { oneFace, type FaceAnalyser } from './face-analyser.js';
import type { FaceLifecycle } from './face-lifecycle.js';
import { enrolmentProblems, enrolmentProblemTexts } from './quality.js';
import type { FaceSource, ImageRef, PersonView } from './results.js';
import { t } from '../messages/text.js';

/** Enrolment from the photo of an ID card: which card, and that a clerk confirmed it is the resident's. */
export interface CardEnrolment {
  device: string;
  idNumber: string;
  clerkConfirmed: true;
}

export class PersonRegistry {
  constructor(
    private readonly enrol: FaceConfig['enrol'],
    private readonly store: Store,
    private readonly lifecycle: Pick<FaceLifecycle, 'withGallery' | 'loadedGallery'>,
    private readonly analyser: FaceAnalyser,
  ) {}

  async enroll(
    input: { id?: string; name: string; images: ImageRef[]; source: FaceSource; card?: CardEnrolment },
    actor: string,
  ): Promise<PersonView> {
    const { engine, manifest, templates, gallery } = this.lifecycle.withGallery();
    const liveScore = manifest.thresholds.liveScore;
    const persons = this.store.persons;
    const id = input.id ?? randomUUID();
    if (persons.get(id)) throw new Problem('person-exists', t`person "${id}" is already enrolled`, ['id']);
    if (input.images.length > this.enrol.maxFacesPerPerson) {
      throw new Problem('person-full', t`at most ${this.enrol.maxFacesPerPerson} images`, ['images']);
    }
    // Every image passes the gate before anything is stored.
    const embeddings: Float32Array[] = [];
    for (const [i, image] of input.images.entries()) {
      const field: FieldPath = input.card ? ['idcard'] : ['images', i, 'image'];
      embeddings.push(
        await this.enrolmentFace(image, field, input.source, liveScore, input.card !== undefined),
      );
    }
    this.store.transaction(() => {
      // Checked again here: another enrolment of the same id may have finished while we analysed.
      if (persons.get(id)) throw new Problem('person-exists', t`person "${id}" is already enrolled`, ['id']);
      persons.insert({ id, name: input.name });
      for (const e of embeddings) templates.add(id, engine.embedderId, e);
      this.store.audit.append({
        actor,
        action: 'person.enroll',
        target: id,
        detail: {
          faces: embeddings.length,
          source: input.source,
          model: engine.embedderId,
          // Who vouched that the card was the resident's: the clerk (actor), with the card's masked number.
          ...(input.card ? { idcard: input.card } : {}),
        },
      });
    });
    gallery.added(id, embeddings);
    return this.getPerson(id);
  }

  async addFace(
    input: { id: string; image: ImageRef; source: FaceSource },
    actor: string,
  ): Promise<PersonView> {
    const { engine, manifest, templates, gallery } = this.lifecycle.withGallery();
    const persons = this.store.persons;
    const max = this.enrol.maxFacesPerPerson;
    const person = this.requirePerson(input.id);
    if (persons.templatesOf(person.id).length >= max) {
      throw new Problem('person-full', t`person "${person.id}" has ${max} faces`, ['id']);
    }
    const embedding = await this.enrolmentFace(
      input.image,
      ['image'],
      input.source,
      manifest.thresholds.liveScore,
    );
    this.store.transaction(() => {
      // Checked again here: the person may have been erased or filled up while we analysed.
      const now = persons.get(person.id) ? persons.templatesOf(person.id).length : -1;
      if (now < 0) throw new Problem('not-found', t`no person "${person.id}"`, ['id']);
      if (now >= max) throw new Problem('person-full', t`person "${person.id}" has ${now} faces`, ['id']);
      templates.add(person.id, engine.embedderId, embedding);
      this.store.audit.append({
        actor,
        action: 'person.add-face',
        target: person.id,
        detail: { source: input.source, model: engine.embedderId },
      });
    });
    gallery.added(person.id, [embedding]);
    return this.getPerson(person.id);
  }

  listPersons(after: string, limit: number): PersonView[] {
    return this.store.persons.list(after, limit).map((p) => this.view(p));
  }

  getPerson(id: string): PersonView {
    return this.view(this.requirePerson(id));
  }

  /** Erasure: works whether or not the models are loaded. */
  deletePerson(id: string, actor: string): { id: string; deleted: true; faces: number } {
    const removed = this.store.transaction(() => {
      const r = this.store.persons.delete(id);
      if (!r) throw new Problem('not-found', t`no person "${id}"`, ['id']);
      this.store.audit.append({ actor, action: 'person.delete', target: id, detail: { faces: r.templates } });
      return r;
    });
    // The rows are zeroed in the pages (secure_delete); the checkpoint also clears the copies in state.db-wal.
    this.store.checkpoint();
    this.lifecycle.loadedGallery()?.removed(id);
    return { id, deleted: true, faces: removed.templates };
  }

  /** Analyses an enrolment image and applies the quality (and, for camera captures, liveness) gate. */
  private async enrolmentFace(
    image: ImageRef,
    field: FieldPath,
    source: FaceSource,
    liveScore: number,
    cardPhoto = false,
  ): Promise<Float32Array> {
    const a = await this.analyser.analyse(image, field, 'largest', source === 'camera' ? 'largest' : 'none');
    const face = oneFace(a, field, false);
    const q = face.quality;
    // A card photo is 102×126 and softened by its compression whatever the resident does: size and
    // sharpness are the card's, not a retake away; pose and light are still checked.
    const gate = cardPhoto ? { ...this.enrol, minFaceSize: 0, minSharpness: 0 } : this.enrol;
    const failed = enrolmentProblemTexts(q, gate);
    if (failed.length > 0) {
      const reasons = enrolmentProblems(q, gate);
      throw new Problem('face-quality', t`not good enough to enrol: ${failed}`, field, {
        reasons,
        quality: q,
      });
    }
    if (face.liveness && !face.liveness.live) {
      throw new Problem(
        'face-not-live',
        t`liveness score ${face.liveness.score} is below ${liveScore}: capture the person, not a photo`,
        field,
        { liveness: face.liveness },
      );
    }
    return face.embedding!;
  }

  private requirePerson(id: string): PersonRecord {
    const p = this.store.persons.get(id);
    if (!p) throw new Problem('not-found', t`no person "${id}"`, ['id']);
    return p;
  }

  private view(p: PersonRecord): PersonView {
    return {
      id: p.id,
      name: p.name,
      faces: this.store.persons
        .templatesOf(p.id)
        .map((t) => ({ id: t.id, modelId: t.modelId, createdAt: t.createdAt })),
      createdAt: p.createdAt,
      updatedAt: p.updatedAt,
    };
  }
}
