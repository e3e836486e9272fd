// The face service: models, the bounded inference queue, the encrypted gallery, and the 1:1 / 1:N / enrol
// logic the operations call. When the models are missing or wrong it stays unavailable (every face call
// throws face-unavailable with the reason) while the rest of the daemon runs.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { FaceConfig } from '../../config/schema.js';
import { loadManifest, resolveModels, DEFAULT_CACHE_DIR, type Manifest } from '../../models/manifest.js';
import { Problem, type FieldPath } from '../problems/problem.js';
import type { Store } from '../store/store.js';
import type { PersonRecord } from '../store/persons.js';
import { analyseImage, type AnalysedFace, type Analysis } from './analyse.js';
import { FaceEngine } from './engine.js';
import { Gallery, type Candidate } from './gallery.js';
import type { Box } from './detection.js';
import type { Point } from './geometry.js';
import { decodeImage, ImageError, type RgbImage } from './image.js';
import { enrolmentProblems } from './quality.js';
import { TemplateCipher } from './template-cipher.js';
import { decodeTemplate, encodeTemplate, TemplateFormatError } from './template-codec.js';
import { cosine } from './tensors.js';
import {
  faceView,
  round1,
  type DetectedFace,
  type FaceSource,
  type IdentifyResult,
  type ImageRef,
  type PersonView,
  type VerifyResult,
} from './results.js';
import { TopKSearcher } from './topk-model.js';
import { QueueFullError, WorkQueue } from './work-queue.js';

const RETRY_AFTER_SECONDS = 1;

/** A probe face already taken from a camera by the face capture (with its liveness). */
export interface CapturedProbe {
  captured: AnalysedFace;
}

export class FaceService {
  private engine?: FaceEngine;
  private manifest?: Manifest;
  private cipher?: TemplateCipher;
  private gallery?: Gallery;
  private searcher?: TopKSearcher;
  private unavailable: string | null = 'starting';
  private galleryVersion = { external: -1, fingerprint: '' };
  private readonly queue: WorkQueue;

  constructor(
    private readonly config: FaceConfig,
    private readonly store: Store,
    private readonly storageDir: string,
    private readonly log: Logger,
  ) {
    this.queue = new WorkQueue(config.concurrency, config.queueSize);
  }

  /**
   * Loads models, key and gallery. Never throws: a failure leaves the service unavailable with a reason.
   * `withGallery: false` (one-off CLI comparisons) skips the key and the gallery.
   */
  async start(opts: { withGallery?: boolean } = {}): Promise<void> {
    if (!this.config.enabled) {
      this.unavailable = 'face recognition is disabled (face.enabled: false)';
      return;
    }
    try {
      const manifest = (this.manifest = loadManifest());
      const models = resolveModels(manifest, this.config.modelDir ?? DEFAULT_CACHE_DIR);
      this.engine = await FaceEngine.load(manifest, models, {
        threads: this.config.threads,
        spinning: this.config.spinning,
      });
      const dim = manifest.models.embedder.dimensions ?? 512;
      if (opts.withGallery === false) {
        this.gallery = new Gallery(dim);
      } else {
        this.cipher = TemplateCipher.open(this.storageDir);
        this.searcher = await TopKSearcher.create(dim, this.config.threads);
        this.galleryVersion = {
          external: this.store.persons.externalVersion(),
          fingerprint: this.store.persons.fingerprint(),
        };
        this.gallery = this.loadGallery(dim);
      }
      this.unavailable = null;
      this.log.info(
        { model: this.engine.embedderId, gallery: this.gallery.size, threads: this.config.threads },
        'face service ready',
      );
    } catch (err) {
      this.unavailable = err instanceof Error ? err.message : String(err);
      this.log.error({ reason: this.unavailable }, 'face service unavailable; the rest of the agent runs');
    }
  }

  async stop(): Promise<void> {
    this.unavailable = 'stopped';
    await this.engine?.release();
    await this.searcher?.release();
  }

  status(): {
    available: boolean;
    reason: string | null;
    modelId: string | null;
    gallerySize: number;
    thresholds: { verify: number; identify: number; identifyMargin: number; liveScore: number } | null;
  } {
    const t = this.manifest?.thresholds;
    return {
      available: this.unavailable === null,
      reason: this.unavailable,
      modelId: this.engine?.embedderId ?? null,
      gallerySize: this.gallery?.size ?? 0,
      thresholds: t
        ? { verify: t.verify, identify: t.identify, identifyMargin: t.identifyMargin, liveScore: t.liveScore }
        : null,
    };
  }

  private ready(): { engine: FaceEngine; gallery: Gallery; cipher: TemplateCipher; manifest: Manifest } {
    if (this.unavailable !== null || !this.engine || !this.gallery || !this.manifest) {
      throw new Problem('face-unavailable', this.unavailable ?? 'not started');
    }
    if (!this.cipher) throw new Problem('face-unavailable', 'started without the gallery');
    return { engine: this.engine, gallery: this.gallery, cipher: this.cipher, manifest: this.manifest };
  }

  /**
   * The gallery, reloaded first when another process (the CLI) enrolled or deleted since it was loaded.
   * The check is one pragma; the reload only happens after such a change.
   */
  private currentGallery(): Gallery {
    const persons = this.store.persons;
    const external = persons.externalVersion();
    if (external !== this.galleryVersion.external) {
      const fingerprint = persons.fingerprint();
      if (this.galleryVersion.external !== -1 && fingerprint !== this.galleryVersion.fingerprint) {
        this.gallery = this.loadGallery(this.gallery!.dim);
        this.log.info({ gallery: this.gallery.size }, 'gallery reloaded after a change by another process');
      }
      this.galleryVersion = { external, fingerprint };
    }
    return this.gallery!;
  }

  private loadGallery(dim: number): Gallery {
    const modelId = this.engine!.embedderId;
    const gallery = new Gallery(dim, 1024, this.searcher);
    let otherModel = 0;
    let undecryptable = 0;
    for (const t of this.store.persons.allTemplates()) {
      if (t.modelId !== modelId) {
        otherModel++;
        continue;
      }
      try {
        gallery.add(
          t.personId,
          this.cipher!.decrypt(t.ciphertext, { templateId: t.id, personId: t.personId, modelId }),
        );
      } catch {
        undecryptable++;
      }
    }
    gallery.trim();
    if (otherModel > 0) {
      this.log.warn(
        { templates: otherModel, model: modelId },
        'templates of another face model ignored: re-enrol',
      );
    }
    if (undecryptable > 0) {
      this.log.error(
        { templates: undecryptable },
        'templates that do not decrypt with face.key ignored (key lost or replaced): those persons must re-enrol',
      );
    }
    return gallery;
  }

  /** The engine and manifest alone (no gallery needed). */
  private models(): { engine: FaceEngine; manifest: Manifest } {
    if (this.unavailable !== null || !this.engine || !this.manifest) {
      throw new Problem('face-unavailable', this.unavailable ?? 'not started');
    }
    return { engine: this.engine, manifest: this.manifest };
  }

  private analyse(
    ref: ImageRef,
    field: FieldPath,
    embed: 'none' | 'all' | 'largest',
    liveness: 'none' | 'all' | 'largest',
  ): Promise<Analysis> {
    return this.analyseBuffer(decodeBase64(ref.image, field), field, embed, liveness);
  }

  /**
   * One camera frame through the pipeline (detect, landmarks, quality; liveness of the largest face when
   * asked), in the same bounded queue as the API's images. No embedding: `embedFace` adds it to the frame
   * that is kept.
   */
  analyseFrame(jpeg: Buffer, opts: { liveness: boolean }): Promise<Analysis> {
    return this.analyseBuffer(jpeg, ['camera'], 'none', opts.liveness ? 'largest' : 'none');
  }

  /** The embedding of a face found by `analyseFrame`. */
  async embedFace(face: AnalysedFace): Promise<Float32Array> {
    const { engine } = this.models();
    face.embedding ??= await this.queue.run(() => engine.embed(face.aligned));
    return face.embedding;
  }

  /** The model that makes templates (for a capture's template). */
  modelId(): string {
    return this.models().engine.embedderId;
  }

  /** Decodes and analyses one image inside the bounded queue; image problems name `field`. */
  private async analyseBuffer(
    buf: Buffer,
    field: FieldPath,
    embed: 'none' | 'all' | 'largest',
    liveness: 'none' | 'all' | 'largest',
  ): Promise<Analysis> {
    const { engine } = this.models();
    return this.queued(field, () =>
      analyseImage(engine, buf, {
        limits: { maxPixels: this.config.maxImagePixels, maxSide: this.config.maxImageSide },
        embed,
        liveness,
      }),
    );
  }

  /**
   * The decoded image (EXIF-rotated, scaled to `face.maxImageSide`) with each face's box and five landmarks
   * in its pixels, largest face first: what an ID-photo crop is cut from.
   */
  async locateFaces(
    buf: Buffer,
    field: FieldPath,
  ): Promise<{ image: RgbImage; faces: { box: Box; landmarks: Point[] }[] }> {
    const { engine } = this.models();
    return this.queued(field, async () => {
      const image = await decodeImage(buf, {
        maxPixels: this.config.maxImagePixels,
        maxSide: this.config.maxImageSide,
      });
      const faces: { box: Box; landmarks: Point[] }[] = [];
      for (const box of await engine.detect(image)) {
        faces.push({ box, landmarks: engine.fivePoints(await engine.landmarks(image, box)) });
      }
      const area = (b: Box): number => (b.x2 - b.x1) * (b.y2 - b.y1);
      faces.sort((a, b) => area(b.box) - area(a.box));
      return { image, faces };
    });
  }

  /** Runs image work in the bounded queue; a full queue and unreadable images become problems. */
  private async queued<T>(field: FieldPath, work: () => Promise<T>): Promise<T> {
    try {
      return await this.queue.run(work);
    } catch (err) {
      if (err instanceof QueueFullError) {
        throw new Problem('face-busy', err.message, undefined, { retryAfter: RETRY_AFTER_SECONDS });
      }
      if (err instanceof ImageError) {
        throw new Problem(
          err.reason === 'too-large' ? 'image-too-large' : 'image-invalid',
          err.message,
          field,
        );
      }
      throw err;
    }
  }

  /** The one face of an analysis (or the largest when `largest`), else a problem naming the count. */
  private single(a: Analysis, field: FieldPath, largest: boolean): AnalysedFace {
    if (a.faces.length === 0) throw new Problem('no-face', 'no face was found in the image', field);
    if (a.faces.length > 1 && !largest) {
      throw new Problem(
        'several-faces',
        `${a.faces.length} faces were found; send an image with one face or set "largest": true`,
        field,
        { faces: a.faces.length },
      );
    }
    return a.faces[0]!;
  }

  async detect(
    probe: ImageRef,
    opts: { templates: boolean; liveness: boolean },
  ): Promise<{
    width: number;
    height: number;
    faces: DetectedFace[];
    modelId: string;
    timingMs: number;
  }> {
    const t0 = performance.now();
    const a = await this.analyse(
      probe,
      ['probe', 'image'],
      opts.templates ? 'all' : 'none',
      opts.liveness ? 'all' : 'none',
    );
    const modelId = this.models().engine.embedderId;
    return {
      width: a.width,
      height: a.height,
      faces: a.faces.map((f) => ({
        ...faceView(f),
        ...(f.embedding ? { template: encodeTemplate(modelId, f.embedding) } : {}),
      })),
      modelId,
      timingMs: round1(performance.now() - t0),
    };
  }

  async verify(input: {
    probe: ImageRef | CapturedProbe;
    reference: { image?: string; personId?: string; template?: string };
    largest: boolean;
  }): Promise<VerifyResult> {
    const t0 = performance.now();
    const { engine, manifest } = this.models();
    const modelId = engine.embedderId;
    const references = await this.referenceEmbeddings(input.reference, input.largest);
    const face = await this.probeFace(input.probe, input.largest);
    const score = Math.max(...references.map((r) => cosine(face.embedding!, r)));
    const threshold = manifest.thresholds.verify;
    const liveness = face.liveness!;
    const decision = !liveness.live ? 'not-live' : score >= threshold ? 'match' : 'no-match';
    return {
      score: Math.round(score * 1e4) / 1e4,
      match: decision === 'match',
      decision,
      threshold,
      liveness,
      quality: face.quality,
      modelId,
      timingMs: round1(performance.now() - t0),
    };
  }

  /** The probe's face with embedding and liveness: analysed from the image, or the capture's own. */
  private async probeFace(probe: ImageRef | CapturedProbe, largest: boolean): Promise<AnalysedFace> {
    if ('captured' in probe) {
      await this.embedFace(probe.captured);
      if (!probe.captured.liveness) throw new Error('a captured probe must carry its liveness');
      return probe.captured;
    }
    const a = await this.analyse(probe, ['probe', 'image'], 'largest', 'largest');
    return this.single(a, ['probe', 'image'], largest);
  }

  private async referenceEmbeddings(
    ref: { image?: string; personId?: string; template?: string },
    largest: boolean,
  ): Promise<Float32Array[]> {
    const given = (['image', 'personId', 'template'] as const).filter((k) => ref[k] !== undefined);
    if (given.length !== 1) {
      throw new Problem(
        'invalid-request',
        'the reference needs exactly one of "image", "personId", "template"',
        ['reference'],
      );
    }
    const { engine } = this.models();
    const modelId = engine.embedderId;
    if (ref.template !== undefined) {
      let t: ReturnType<typeof decodeTemplate>;
      try {
        t = decodeTemplate(ref.template);
      } catch (err) {
        throw new Problem('template-invalid', (err as TemplateFormatError).message, [
          'reference',
          'template',
        ]);
      }
      if (t.modelId !== modelId) {
        throw new Problem(
          'model-mismatch',
          `the template was made by model "${t.modelId}"; this box uses "${modelId}": enrol or capture again`,
          ['reference', 'template'],
          { templateModel: t.modelId, modelId },
        );
      }
      if (t.embedding.length !== (this.gallery?.dim ?? 512)) {
        throw new Problem('template-invalid', `the template has ${t.embedding.length} values`, [
          'reference',
          'template',
        ]);
      }
      return [t.embedding];
    }
    if (ref.personId !== undefined) {
      const person = this.store.persons.get(ref.personId);
      if (!person) throw new Problem('not-found', `no person "${ref.personId}"`, ['reference', 'personId']);
      const templates = this.store.persons.templatesOf(person.id);
      const mine = templates.filter((t) => t.modelId === modelId);
      if (mine.length === 0) {
        throw new Problem(
          'model-mismatch',
          `person "${person.id}" has no template of model "${modelId}" (${templates.length} of other models): re-enrol`,
          ['reference', 'personId'],
        );
      }
      const { cipher } = this.ready();
      return mine.map((t) =>
        cipher.decrypt(t.ciphertext, { templateId: t.id, personId: person.id, modelId }),
      );
    }
    const a = await this.analyse({ image: ref.image! }, ['reference', 'image'], 'largest', 'none');
    return [this.single(a, ['reference', 'image'], largest).embedding!];
  }

  async identify(input: {
    probe: ImageRef | CapturedProbe;
    topK: number;
    largest: boolean;
  }): Promise<IdentifyResult> {
    const t0 = performance.now();
    const { engine, manifest } = this.ready();
    const gallery = this.currentGallery();
    const face = await this.probeFace(input.probe, input.largest);
    const { verify, identify, identifyMargin } = manifest.thresholds;
    // Two at least, so the margin over the runner-up is known.
    const found = await gallery.search(face.embedding!, Math.max(input.topK, 2));
    const named = (c: Candidate): Candidate & { name: string } => ({
      personId: c.personId,
      score: Math.round(c.score * 1e4) / 1e4,
      name: this.store.persons.get(c.personId)?.name ?? '',
    });
    const candidates = found
      .filter((c) => c.score >= verify)
      .slice(0, input.topK)
      .map(named);
    const top = found[0];
    let best: IdentifyResult['best'] = null;
    if (top && top.score >= verify) {
      const margin = top.score - (found[1]?.score ?? -1);
      const sure = face.liveness!.live && top.score >= identify && margin >= identifyMargin;
      best = { ...named(top), margin: Math.round(margin * 1e4) / 1e4, confirm: !sure };
    }
    return {
      candidates,
      best,
      threshold: verify,
      identifyThreshold: identify,
      liveness: face.liveness!,
      quality: face.quality,
      modelId: engine.embedderId,
      gallerySize: gallery.size,
      timingMs: round1(performance.now() - t0),
    };
  }

  /** Analyses an enrolment image and applies the quality (and, for camera captures, liveness) gate. */
  private async enrolmentFace(image: ImageRef, field: FieldPath, source: FaceSource): Promise<Float32Array> {
    const a = await this.analyse(image, field, 'largest', source === 'camera' ? 'largest' : 'none');
    const face = this.single(a, field, false);
    const q = face.quality;
    const reasons = enrolmentProblems(q, this.config.enrol);
    if (reasons.length > 0) {
      throw new Problem('face-quality', reasons.join('; '), field, { reasons, quality: q });
    }
    if (face.liveness && !face.liveness.live) {
      throw new Problem(
        'face-not-live',
        `liveness score ${face.liveness.score} is below ${this.manifest!.thresholds.liveScore}: capture the person, not a photo`,
        field,
        { liveness: face.liveness },
      );
    }
    return face.embedding!;
  }

  async enroll(
    input: { id?: string; name: string; images: ImageRef[]; source: FaceSource },
    actor: string,
  ): Promise<PersonView> {
    const { engine } = this.ready();
    const id = input.id ?? randomUUID();
    if (this.store.persons.get(id))
      throw new Problem('person-exists', `person "${id}" is already enrolled`, ['id']);
    if (input.images.length > this.config.enrol.maxFacesPerPerson) {
      throw new Problem('person-full', `at most ${this.config.enrol.maxFacesPerPerson} images`, ['images']);
    }
    // Every image passes the gate before anything is stored.
    const embeddings: Float32Array[] = [];
    for (const [i, image] of input.images.entries()) {
      embeddings.push(await this.enrolmentFace(image, ['images', i, 'image'], input.source));
    }
    this.store.transaction(() => {
      // Checked again here: another enrolment of the same id may have finished while we analysed.
      if (this.store.persons.get(id))
        throw new Problem('person-exists', `person "${id}" is already enrolled`, ['id']);
      this.store.persons.insert({ id, name: input.name });
      for (const e of embeddings) this.storeTemplate(id, engine.embedderId, e);
      this.store.audit.append({
        actor,
        action: 'person.enroll',
        target: id,
        detail: { faces: embeddings.length, source: input.source, model: engine.embedderId },
      });
    });
    for (const e of embeddings) this.gallery!.add(id, e);
    this.noteOwnWrite();
    return this.getPerson(id);
  }

  async addFace(
    input: { id: string; image: ImageRef; source: FaceSource },
    actor: string,
  ): Promise<PersonView> {
    const { engine, gallery } = this.ready();
    const person = this.requirePerson(input.id);
    if (this.store.persons.templatesOf(person.id).length >= this.config.enrol.maxFacesPerPerson) {
      throw new Problem(
        'person-full',
        `person "${person.id}" has ${this.config.enrol.maxFacesPerPerson} faces`,
        ['id'],
      );
    }
    const embedding = await this.enrolmentFace(input.image, ['image'], input.source);
    this.store.transaction(() => {
      // Checked again here: the person may have been erased or filled up while we analysed.
      const now = this.store.persons.get(person.id) ? this.store.persons.templatesOf(person.id).length : -1;
      if (now < 0) throw new Problem('not-found', `no person "${person.id}"`, ['id']);
      if (now >= this.config.enrol.maxFacesPerPerson) {
        throw new Problem('person-full', `person "${person.id}" has ${now} faces`, ['id']);
      }
      this.storeTemplate(person.id, engine.embedderId, embedding);
      this.store.audit.append({
        actor,
        action: 'person.add-face',
        target: person.id,
        detail: { source: input.source, model: engine.embedderId },
      });
    });
    gallery.add(person.id, embedding);
    this.noteOwnWrite();
    return this.getPerson(person.id);
  }

  private storeTemplate(personId: string, modelId: string, embedding: Float32Array): void {
    const templateId = randomUUID();
    const ciphertext = this.cipher!.encrypt(embedding, { templateId, personId, modelId });
    this.store.persons.addTemplate({ id: templateId, personId, modelId, ciphertext });
  }

  private requirePerson(id: string): PersonRecord {
    const p = this.store.persons.get(id);
    if (!p) throw new Problem('not-found', `no person "${id}"`, ['id']);
    return p;
  }

  listPersons(after: string, limit: number): PersonView[] {
    return this.store.persons.list(after, limit).map((p) => this.view(p));
  }

  getPerson(id: string): PersonView {
    return this.view(this.requirePerson(id));
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

  /** Erasure: the person and every template go; the audit entry keeps who and when, no biometric data. */
  deletePerson(id: string, actor: string): { id: string; deleted: true; faces: number } {
    const removed = this.store.transaction(() => {
      const r = this.store.persons.delete(id);
      if (!r) throw new Problem('not-found', `no person "${id}"`, ['id']);
      this.store.audit.append({ actor, action: 'person.delete', target: id, detail: { faces: r.templates } });
      return r;
    });
    this.gallery?.removePerson(id);
    this.noteOwnWrite();
    return { id, deleted: true, faces: removed.templates };
  }

  /** Our own writes are already in the in-memory gallery: remember the fingerprint they leave. */
  private noteOwnWrite(): void {
    if (this.galleryVersion.external === -1) return;
    this.galleryVersion.fingerprint = this.store.persons.fingerprint();
  }
}

export function decodeBase64(text: string, field: FieldPath): Buffer {
  const comma = text.startsWith('data:') ? text.indexOf(',') : -1;
  const b64 = comma >= 0 ? text.slice(comma + 1) : text;
  if (!/^[A-Za-z0-9+/_=\s-]*$/.test(b64)) {
    throw new Problem('image-invalid', 'the image must be base64 (optionally a data: URL)', field);
  }
  return Buffer.from(b64, 'base64');
}
