// The face service the operations, the CLI and main.ts call: one façade over its parts, each in its own
// module: the lifecycle (models, key and gallery loaded, readiness, stop), the analyser (images through the
// pipeline in one bounded queue), recognition (detect, 1:1 verify, 1:N identify) and the person registry
// (enrol, add a face, list, erase). The gallery cache behind 1:N is held by the lifecycle.
import type { Logger } from 'pino';
import type { FaceConfig } from '../../config/schema.js';
import type { Store } from '../store/store.js';
import { FaceAnalyser } from './face-analyser.js';
import { FaceLifecycle } from './face-lifecycle.js';
import { PersonRegistry } from './person-registry.js';
import { Recognition } from './recognition.js';

export { decodeBase64 } from './face-analyser.js';
export type { CapturedProbe } from './recognition.js';

export class FaceService {
  private readonly lifecycle: FaceLifecycle;
  private readonly analyser: FaceAnalyser;
  private readonly recognition: Recognition;
  private readonly registry: PersonRegistry;

  constructor(config: FaceConfig, store: Store, storageDir: string, log: Logger) {
    this.lifecycle = new FaceLifecycle(config, store.persons, storageDir, log);
    this.analyser = new FaceAnalyser(config, this.lifecycle);
    this.recognition = new Recognition(this.lifecycle, this.analyser, store.persons);
    this.registry = new PersonRegistry(config.enrol, store, this.lifecycle, this.analyser);
  }

  readonly start: FaceLifecycle['start'] = (opts) => this.lifecycle.start(opts);
  readonly stop: FaceLifecycle['stop'] = () => this.lifecycle.stop();
  readonly status: FaceLifecycle['status'] = () => this.lifecycle.status();
  /** The model that makes templates (for a capture's template). */
  readonly modelId = (): string => this.lifecycle.models().engine.embedderId;

  readonly analyseFrame: FaceAnalyser['analyseFrame'] = (jpeg, opts) =>
    this.analyser.analyseFrame(jpeg, opts);
  readonly embedFace: FaceAnalyser['embedFace'] = (face) => this.analyser.embedFace(face);
  readonly locateFaces: FaceAnalyser['locateFaces'] = (buf, field) => this.analyser.locateFaces(buf, field);

  readonly detect: Recognition['detect'] = (probe, opts) => this.recognition.detect(probe, opts);
  readonly verify: Recognition['verify'] = (input) => this.recognition.verify(input);
  readonly identify: Recognition['identify'] = (input) => this.recognition.identify(input);

  readonly enroll: PersonRegistry['enroll'] = (input, actor) => this.registry.enroll(input, actor);
  readonly addFace: PersonRegistry['addFace'] = (input, actor) => this.registry.addFace(input, actor);
  readonly listPersons: PersonRegistry['listPersons'] = (after, limit) =>
    this.registry.listPersons(after, limit);
  readonly getPerson: PersonRegistry['getPerson'] = (id) => this.registry.getPerson(id);
  readonly deletePerson: PersonRegistry['deletePerson'] = (id, actor) =>
    this.registry.deletePerson(id, actor);
}
