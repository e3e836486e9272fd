// The face service's lifecycle: models, key and gallery loaded at start and released at stop, and the
// readiness every face call checks first. When the models are missing or wrong the service stays
// unavailable (every face call answers 503 face-unavailable with the reason) while the rest of the daemon
// runs.
import type { Logger } from 'pino';
import type { FaceConfig } from '../../config/schema.js';
import { loadManifest, resolveModels, DEFAULT_CACHE_DIR, type Manifest } from '../../models/manifest.js';
import { Problem } from '../problems/problem.js';
import type { PersonRepository } from '../store/persons.js';
import { FaceEngine } from './engine.js';
import { GalleryCache } from './gallery-cache.js';
import { StoredTemplates } from './stored-templates.js';
import { t, verbatim } from '../messages/text.js';

/** The loaded models: enough to compare faces. */
export interface FaceModels {
  engine: FaceEngine;
  manifest: Manifest;
  /** Values in one template of this embedder. */
  dim: number;
}

/** The models plus the key and the gallery: what enrolment, erasure and 1:N need. */
export interface FaceGallery extends FaceModels {
  templates: StoredTemplates;
  gallery: GalleryCache;
}

export interface FaceStatus {
  available: boolean;
  reason: string | null;
  modelId: string | null;
  gallerySize: number;
  thresholds: {
    verify: number;
    verifyCard: number;
    identify: number;
    identifyMargin: number;
    liveScore: number;
  } | null;
}

export class FaceLifecycle {
  /** Kept apart from the models: the thresholds are reported even when a model file is missing. */
  private manifest?: Manifest;
  private models_?: FaceModels;
  private stored?: { templates: StoredTemplates; gallery: GalleryCache };
  private unavailable: string | null = 'starting';

  constructor(
    private readonly config: FaceConfig,
    private readonly persons: PersonRepository,
    private readonly storageDir: string,
    private readonly log: Logger,
  ) {}

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
      const files = resolveModels(manifest, this.config.modelDir ?? DEFAULT_CACHE_DIR);
      const engine = await FaceEngine.load(manifest, files, {
        threads: this.config.threads,
        spinning: this.config.spinning,
      });
      const dim = manifest.models.embedder.dimensions ?? 512;
      this.models_ = { engine, manifest, dim };
      if (opts.withGallery !== false) {
        const templates = StoredTemplates.open(this.persons, this.storageDir);
        const gallery = await GalleryCache.open(
          this.persons,
          templates,
          { modelId: engine.embedderId, dim, threads: this.config.threads },
          this.log,
        );
        this.stored = { templates, gallery };
      }
      this.unavailable = null;
      this.log.info(
        { model: engine.embedderId, gallery: this.stored?.gallery.size ?? 0, threads: this.config.threads },
        'face service ready',
      );
    } catch (err) {
      this.unavailable = err instanceof Error ? err.message : String(err);
      this.log.error({ reason: this.unavailable }, 'face service unavailable; the rest of the agent runs');
    }
  }

  async stop(): Promise<void> {
    this.unavailable = 'stopped';
    await this.models_?.engine.release();
    await this.stored?.gallery.release();
  }

  status(): FaceStatus {
    const t = this.manifest?.thresholds;
    return {
      available: this.unavailable === null,
      reason: this.unavailable,
      modelId: this.models_?.engine.embedderId ?? null,
      gallerySize: this.stored?.gallery.size ?? 0,
      thresholds: t
        ? {
            verify: t.verify,
            verifyCard: t.verifyCard ?? t.verify,
            identify: t.identify,
            identifyMargin: t.identifyMargin,
            liveScore: t.liveScore,
          }
        : null,
    };
  }

  /** The models alone (no gallery needed), or a face-unavailable problem with the reason. */
  models(): FaceModels {
    if (this.unavailable !== null || !this.models_) {
      throw new Problem('face-unavailable', verbatim(this.unavailable ?? 'not started'));
    }
    return this.models_;
  }

  /** The models with the key and the gallery, or a face-unavailable problem. */
  withGallery(): FaceGallery {
    const models = this.models();
    if (!this.stored) throw new Problem('face-unavailable', t`started without the gallery`);
    return { ...models, ...this.stored };
  }

  /** The gallery when it is loaded, whatever the models' state: erasure must not wait for them. */
  loadedGallery(): GalleryCache | undefined {
    return this.stored?.gallery;
  }
}
