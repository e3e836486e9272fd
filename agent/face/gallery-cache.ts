// The 1:N gallery of the current model kept in memory: loaded from the stored templates at start, told of
// this process's own enrolments and erasures, and reloaded when another process (the CLI) changed the
// persons since (one pragma per search to notice; the reload only after such a change).
import type { Logger } from 'pino';
import type { PersonRepository } from '../store/persons.js';
import { Gallery } from './gallery.js';
import type { StoredTemplates } from './stored-templates.js';
import { TopKSearcher } from './topk-model.js';

/** What the persons table looked like when the gallery last matched it. */
interface Seen {
  external: number;
  fingerprint: string;
}

export class GalleryCache {
  private gallery: Gallery;

  private constructor(
    private readonly persons: PersonRepository,
    private readonly templates: StoredTemplates,
    private readonly searcher: TopKSearcher,
    private readonly modelId: string,
    private readonly log: Logger,
    private seen: Seen,
  ) {
    this.gallery = this.load(searcher.dim);
  }

  static async open(
    persons: PersonRepository,
    templates: StoredTemplates,
    opts: { modelId: string; dim: number; threads: number },
    log: Logger,
  ): Promise<GalleryCache> {
    const searcher = await TopKSearcher.create(opts.dim, opts.threads);
    // Seen before loading: a change made while loading is then found by the first search.
    const seen = { external: persons.externalVersion(), fingerprint: persons.fingerprint() };
    try {
      return new GalleryCache(persons, templates, searcher, opts.modelId, log, seen);
    } catch (err) {
      await searcher.release();
      throw err;
    }
  }

  /** Templates in the gallery as loaded (no check for other processes' changes). */
  get size(): number {
    return this.gallery.size;
  }

  /** The gallery to search, reloaded first when another process enrolled or deleted since it was loaded. */
  current(): Gallery {
    const external = this.persons.externalVersion();
    if (external !== this.seen.external) {
      const fingerprint = this.persons.fingerprint();
      if (fingerprint !== this.seen.fingerprint) {
        this.gallery = this.load(this.gallery.dim);
        this.log.info({ gallery: this.gallery.size }, 'gallery reloaded after a change by another process');
      }
      this.seen = { external, fingerprint };
    }
    return this.gallery;
  }

  /** Our own enrolment, already committed: into the gallery, and not taken for another process's change. */
  added(personId: string, embeddings: Float32Array[]): void {
    for (const e of embeddings) this.gallery.add(personId, e);
    this.seen.fingerprint = this.persons.fingerprint();
  }

  /** Our own erasure, already committed. */
  removed(personId: string): void {
    this.gallery.removePerson(personId);
    this.seen.fingerprint = this.persons.fingerprint();
  }

  async release(): Promise<void> {
    await this.searcher.release();
  }

  private load(dim: number): Gallery {
    const gallery = new Gallery(dim, 1024, this.searcher);
    const skipped = this.templates.forEachOf(this.modelId, (personId, e) => gallery.add(personId, e));
    gallery.trim();
    if (skipped.otherModel > 0) {
      this.log.warn(
        { templates: skipped.otherModel, model: this.modelId },
        'templates of another face model ignored: re-enrol',
      );
    }
    if (skipped.undecryptable > 0) {
      this.log.error(
        { templates: skipped.undecryptable },
        'templates that do not decrypt with face.key ignored (key lost or replaced): those persons must re-enrol',
      );
    }
    return gallery;
  }
}
