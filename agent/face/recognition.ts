// Recognition: find faces (detect), compare one probe with one reference (1:1 verify) or with the gallery
// (1:N identify). A probe is an image or a face the camera capture already took; liveness decides whether
// a match is trusted.
import { TemplateKeyError } from './template-cipher.js';
import { Problem } from '../problems/problem.js';
import type { PersonRepository } from '../store/persons.js';
import type { AnalysedFace } from './analyse.js';
import { oneFace, type FaceAnalyser } from './face-analyser.js';
import type { FaceLifecycle } from './face-lifecycle.js';
import type { Candidate } from './gallery.js';
import type { FaceQuality } from './quality.js';
import {
  faceView,
  round1,
  type DetectedFace,
  type IdentifyResult,
  type ImageRef,
  type VerifyResult,
} from './results.js';
import { decodeTemplate, encodeTemplate, TemplateFormatError } from './template-codec.js';
import { cosine } from './tensors.js';
import { t, verbatim } from '../messages/text.js';

/** A probe face already taken from a camera by the face capture (with its liveness). */
export interface CapturedProbe {
  captured: AnalysedFace;
}

/** What to compare a probe with in 1:1: exactly one of an image, an enrolled person, or a template. */
export interface Reference {
  image?: string;
  personId?: string;
  template?: string;
}

/**
 * Where an image reference came from. `card`: the photo of an ID card (102×126, heavily compressed), judged
 * with its own calibrated threshold (thresholds.verifyCard) when the manifest has one.
 */
export type ReferenceKind = 'image' | 'card';

/** Scores as callers see them: four decimals. */
const round4 = (x: number): number => Math.round(x * 1e4) / 1e4;

export class Recognition {
  constructor(
    private readonly lifecycle: Pick<FaceLifecycle, 'models' | 'withGallery'>,
    private readonly analyser: FaceAnalyser,
    private readonly persons: PersonRepository,
  ) {}

  async detect(
    probe: ImageRef,
    opts: { templates: boolean; liveness: boolean },
  ): Promise<{ width: number; height: number; faces: DetectedFace[]; modelId: string; timingMs: number }> {
    const t0 = performance.now();
    const a = await this.analyser.analyse(
      probe,
      ['probe', 'image'],
      opts.templates ? 'all' : 'none',
      opts.liveness ? 'all' : 'none',
    );
    const modelId = this.lifecycle.models().engine.embedderId;
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
    reference: Reference;
    largest: boolean;
    referenceKind?: ReferenceKind;
  }): Promise<VerifyResult> {
    const t0 = performance.now();
    const { engine, manifest } = this.lifecycle.models();
    const reference = await this.referenceFaces(input.reference, input.largest);
    const face = await this.probeFace(input.probe, input.largest);
    const score = Math.max(...reference.embeddings.map((r) => cosine(face.embedding!, r)));
    const threshold =
      input.referenceKind === 'card'
        ? (manifest.thresholds.verifyCard ?? manifest.thresholds.verify)
        : manifest.thresholds.verify;
    const liveness = face.liveness!;
    const decision = !liveness.live ? 'not-live' : score >= threshold ? 'match' : 'no-match';
    return {
      score: round4(score),
      match: decision === 'match',
      decision,
      threshold,
      liveness,
      quality: face.quality,
      ...(reference.quality ? { referenceQuality: reference.quality } : {}),
      modelId: engine.embedderId,
      timingMs: round1(performance.now() - t0),
    };
  }

  async identify(input: {
    probe: ImageRef | CapturedProbe;
    topK: number;
    largest: boolean;
  }): Promise<IdentifyResult> {
    const t0 = performance.now();
    const { engine, manifest, gallery: cache } = this.lifecycle.withGallery();
    const gallery = cache.current();
    const face = await this.probeFace(input.probe, input.largest);
    const { verify, identify, identifyMargin } = manifest.thresholds;
    // Two at least, so the margin over the runner-up is known.
    const found = await gallery.search(face.embedding!, Math.max(input.topK, 2));
    const named = (c: Candidate): Candidate & { name: string } => ({
      personId: c.personId,
      score: round4(c.score),
      name: this.persons.get(c.personId)?.name ?? '',
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
      best = { ...named(top), margin: round4(margin), confirm: !sure };
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

  /** The probe's face with embedding and liveness: analysed from the image, or the capture's own. */
  private async probeFace(probe: ImageRef | CapturedProbe, largest: boolean): Promise<AnalysedFace> {
    if ('captured' in probe) {
      await this.analyser.embedFace(probe.captured);
      if (!probe.captured.liveness) throw new Error('a captured probe must carry its liveness');
      return probe.captured;
    }
    const a = await this.analyser.analyse(probe, ['probe', 'image'], 'largest', 'largest');
    return oneFace(a, ['probe', 'image'], largest);
  }

  /** The reference's embeddings, and the quality of its face when it is an image. */
  private async referenceFaces(
    ref: Reference,
    largest: boolean,
  ): Promise<{ embeddings: Float32Array[]; quality?: FaceQuality }> {
    const given = (['image', 'personId', 'template'] as const).filter((k) => ref[k] !== undefined);
    if (given.length !== 1) {
      throw new Problem(
        'invalid-request',
        t`the reference needs exactly one of "image", "personId", "template"`,
        ['reference'],
      );
    }
    const { engine, dim } = this.lifecycle.models();
    const modelId = engine.embedderId;
    if (ref.template !== undefined)
      return { embeddings: [this.templateEmbedding(ref.template, modelId, dim)] };
    if (ref.personId !== undefined) return { embeddings: this.personEmbeddings(ref.personId, modelId) };
    const a = await this.analyser.analyse({ image: ref.image! }, ['reference', 'image'], 'largest', 'none');
    const face = oneFace(a, ['reference', 'image'], largest);
    return { embeddings: [face.embedding!], quality: face.quality };
  }

  /** A template a caller sent: refused when malformed or made by another model, never mis-scored. */
  private templateEmbedding(text: string, modelId: string, dim: number): Float32Array {
    let decoded: ReturnType<typeof decodeTemplate>;
    try {
      decoded = decodeTemplate(text);
    } catch (err) {
      throw new Problem('template-invalid', verbatim((err as TemplateFormatError).message), [
        'reference',
        'template',
      ]);
    }
    if (decoded.modelId !== modelId) {
      throw new Problem(
        'model-mismatch',
        t`the template was made by model "${decoded.modelId}"; this box uses "${modelId}": enrol or capture again`,
        ['reference', 'template'],
        { templateModel: decoded.modelId, modelId },
      );
    }
    if (decoded.embedding.length !== dim) {
      throw new Problem('template-invalid', t`the template has ${decoded.embedding.length} values`, [
        'reference',
        'template',
      ]);
    }
    return decoded.embedding;
  }

  /** An enrolled person's templates of this model, decrypted. */
  private personEmbeddings(personId: string, modelId: string): Float32Array[] {
    const person = this.persons.get(personId);
    if (!person) throw new Problem('not-found', t`no person "${personId}"`, ['reference', 'personId']);
    const templates = this.persons.templatesOf(person.id);
    const mine = templates.filter((m) => m.modelId === modelId);
    if (mine.length === 0) {
      throw new Problem(
        'model-mismatch',
        t`person "${person.id}" has no template of model "${modelId}" (${templates.length} of other models): re-enrol`,
        ['reference', 'personId'],
      );
    }
    const { templates: stored } = this.lifecycle.withGallery();
    try {
      return stored.decrypt(mine);
    } catch (err) {
      // face.key replaced (or the row altered): the person cannot be compared, which is a problem, not a 500.
      if (err instanceof TemplateKeyError) {
        throw new Problem('face-unavailable', verbatim(err.message), ['reference', 'personId']);
      }
      throw err;
    }
  }
}
