// `boxagent persons enroll|list|delete|purge` and `boxagent face verify`: the face service run in the CLI process on
// the box's state directory. A running daemon notices persons enrolled or deleted here before its next
// identify (it reloads its gallery when another process changed the templates).
import { terminalLocale } from '../messages/locale.js';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { LoadedConfig } from '../../config/load.js';
import { CliError, EXIT_USAGE, load, openStore, printJson, withStore } from './support.js';
import { watchStateDir } from './service-user.js';
import { FaceService } from '../face/face-service.js';
import type { FaceSource } from '../face/results.js';
import { createLogger } from '../log.js';
import { asProblem, problemDocument } from '../problems/document.js';
import type { Problem } from '../problems/problem.js';
import { Store } from '../store/store.js';

async function withFace<T>(
  loaded: LoadedConfig,
  withGallery: boolean,
  files: string[],
  fn: (face: FaceService) => Promise<T>,
): Promise<T> {
  const storageDir = resolve(loaded.config.storage.dir);
  const store = openStore(loaded);
  const face = new FaceService(loaded.config.face, store, storageDir, createLogger('silent'));
  try {
    await face.start({ withGallery });
    const status = face.status();
    if (!status.available) throw new CliError(`face recognition unavailable: ${status.reason ?? 'unknown'}`);
    return await fn(face);
  } catch (err) {
    // Problems (and a full disk) become the one-line reason; an unexpected error keeps its own message.
    const problem = asProblem(err);
    if (problem.code !== 'internal') throw new CliError(describeProblem(problem, files));
    throw err;
  } finally {
    await face.stop();
    store.close();
  }
}

/**
 * A problem as one line, from the same problem document HTTP and MQTT send, naming the file its field points
 * at (`/images/1/image` → the second image).
 */
function describeProblem(p: Problem, files: string[]): string {
  const doc = problemDocument(p, terminalLocale(process.env));
  const text = doc.detail ?? doc.title;
  const m = /^\/(?:images\/(\d+)\/image|probe\/image|reference\/image)$/.exec(doc.field ?? '');
  if (!m) return text;
  const file = m[1] !== undefined ? files[Number(m[1])] : doc.field === '/probe/image' ? files[0] : files[1];
  return `${file}: ${text}`;
}

function readImage(file: string): { image: string } {
  try {
    return { image: readFileSync(file).toString('base64') };
  } catch (err) {
    throw new CliError(`${file}: ${(err as NodeJS.ErrnoException).code ?? 'cannot read'}`);
  }
}

export function registerFaceCommands(program: Command): void {
  const persons = program.command('persons').description('persons enrolled for face recognition');
  persons
    .command('enroll <images...>')
    .description('enrol a person from image files (same quality gate as the API)')
    .requiredOption('--name <name>', "the person's name")
    .option('--id <id>', 'the person id (default: a new UUID)')
    .option('--source <source>', 'document (ID-card or file photo, no liveness) or camera', 'document')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'print JSON')
    .action(
      async (
        files: string[],
        opts: { name: string; id?: string; source: string; config?: string; json?: boolean },
      ) => {
        if (opts.source !== 'document' && opts.source !== 'camera') {
          throw new CliError('--source must be document or camera');
        }
        const images = files.map((f) => readImage(f));
        const person = await withFace(load(opts), true, files, (face) =>
          face.enroll({ id: opts.id, name: opts.name, images, source: opts.source as FaceSource }, 'cli'),
        );
        if (opts.json) printJson(person);
        else process.stdout.write(`enrolled ${person.id} (${person.faces.length} faces)\n`);
      },
    );
  persons
    .command('list')
    .description('list enrolled persons (no biometric data)')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'print JSON')
    .action((opts: { config?: string; json?: boolean }) => {
      const { config } = load(opts);
      watchStateDir(config);
      const store = Store.open(resolve(config.storage.dir));
      try {
        const all: { id: string; name: string; faces: number }[] = [];
        for (let after = ''; ;) {
          const page = store.persons.list(after, 1000);
          for (const p of page)
            all.push({ id: p.id, name: p.name, faces: store.persons.templatesOf(p.id).length });
          if (page.length < 1000) break;
          after = page[page.length - 1]!.id;
        }
        if (opts.json) printJson(all);
        else for (const p of all) process.stdout.write(`${p.id}  ${p.name}  (${p.faces} faces)\n`);
      } finally {
        store.close();
      }
    });
  persons
    .command('delete <id>')
    .description('erase a person: every template goes; the audit log keeps who and when')
    .option('-c, --config <file>', 'config file')
    .action(async (id: string, opts: { config?: string }) => {
      const r = await withFace(load(opts), true, [], (face) => Promise.resolve(face.deletePerson(id, 'cli')));
      process.stdout.write(`deleted ${r.id} (${r.faces} faces)\n`);
    });
  persons
    .command('purge')
    .description(
      'erase every person and template (audited): the deliberate way to start over after face.key was lost',
    )
    .option('-c, --config <file>', 'config file')
    .option('--yes', 'really erase every person')
    .action((opts: { config?: string; yes?: boolean }) => {
      if (!opts.yes) {
        throw new CliError(
          'this erases every enrolled person and face template; run again with --yes',
          EXIT_USAGE,
        );
      }
      // The store alone: purging must work while the key or the models are missing.
      const r = withStore(load(opts), (store) => {
        const gone = store.transaction(() => {
          const all = store.persons.deleteAll();
          store.audit.append({ actor: 'cli', action: 'person.purge', detail: { ...all } });
          return all;
        });
        store.checkpoint();
        return gone;
      });
      process.stdout.write(
        `erased ${r.persons} persons (${r.templates} templates); restart the daemon (systemctl restart boxagent) to use face recognition again\n`,
      );
    });

  const face = program.command('face').description('face recognition checks');
  face
    .command('verify <probe> <reference>')
    .description(
      'compare the face in PROBE with the face in REFERENCE (no liveness needed for the reference)',
    )
    .option('--largest', 'with several faces in an image, use the largest')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'print JSON')
    .action(
      async (
        probe: string,
        reference: string,
        opts: { largest?: boolean; config?: string; json?: boolean },
      ) => {
        const input = {
          probe: readImage(probe),
          reference: readImage(reference),
          largest: opts.largest === true,
        };
        const r = await withFace(load(opts), false, [probe, reference], (f) => f.verify(input));
        if (opts.json) printJson(r);
        else {
          process.stdout.write(
            `${r.decision}: score ${r.score} (threshold ${r.threshold}), liveness ${r.liveness.score}\n`,
          );
        }
      },
    );
}
