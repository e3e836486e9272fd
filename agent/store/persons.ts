import type Database from 'better-sqlite3';
import { statementCache } from './statements.js';
import { nowIso } from './time.js';

export interface PersonRecord {
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
}

/** A stored face template: the embedding is encrypted by the face service; the store sees opaque bytes. */
export interface TemplateRecord {
  id: string;
  personId: string;
  modelId: string;
  ciphertext: Buffer;
  createdAt: string;
}

interface PersonRow {
  id: string;
  name: string;
  created_at: string;
  updated_at: string;
}

interface TemplateRow {
  id: string;
  person_id: string;
  model_id: string;
  ciphertext: Buffer;
  created_at: string;
}

const person = (r: PersonRow): PersonRecord => ({
  id: r.id,
  name: r.name,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const template = (r: TemplateRow): TemplateRecord => ({
  id: r.id,
  personId: r.person_id,
  modelId: r.model_id,
  ciphertext: r.ciphertext,
  createdAt: r.created_at,
});

/** Enrolled persons and their face templates (the gallery). Deleting a person deletes their templates. */
export class PersonRepository {
  private readonly sql: (sql: string) => Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.sql = statementCache(db);
  }

  /**
   * Changes when another process (the CLI) has committed to the database since this connection last looked;
   * the daemon's in-memory gallery then checks `fingerprint()` and reloads.
   */
  externalVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  /** Changes with every template added or deleted. */
  fingerprint(): string {
    const r = this.sql('SELECT COUNT(*) AS n, COALESCE(MAX(rowid), 0) AS last FROM face_templates').get() as {
      n: number;
      last: number;
    };
    return `${r.n}:${r.last}`;
  }

  /** How many templates are stored, whatever their model. */
  templateCount(): number {
    return (this.sql('SELECT COUNT(*) AS n FROM face_templates').get() as { n: number }).n;
  }

  /** Erases every person and (by cascade) every template; returns how many of each went. */
  deleteAll(): { persons: number; templates: number } {
    const templates = this.templateCount();
    const persons = this.sql('DELETE FROM persons').run().changes;
    this.sql("DELETE FROM idempotency WHERE operation LIKE 'persons.%'").run();
    return { persons, templates };
  }

  insert(p: { id: string; name: string }): PersonRecord {
    const at = nowIso();
    this.sql('INSERT INTO persons (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)').run(
      p.id,
      p.name,
      at,
      at,
    );
    return { id: p.id, name: p.name, createdAt: at, updatedAt: at };
  }

  get(id: string): PersonRecord | undefined {
    const row = this.sql('SELECT * FROM persons WHERE id = ?').get(id) as PersonRow | undefined;
    return row && person(row);
  }

  list(afterId: string, limit: number): PersonRecord[] {
    return (
      this.sql('SELECT * FROM persons WHERE id > ? ORDER BY id LIMIT ?').all(afterId, limit) as PersonRow[]
    ).map(person);
  }

  /** Deletes the person and (by cascade) every template; returns how many templates went, or null if none. */
  delete(id: string): { templates: number } | null {
    const n = (
      this.sql('SELECT COUNT(*) AS n FROM face_templates WHERE person_id = ?').get(id) as { n: number }
    ).n;
    const r = this.sql('DELETE FROM persons WHERE id = ?').run(id);
    // A remembered enrol/add-face answer (Idempotency-Key) holds the name: erased with the person.
    this.sql(
      "DELETE FROM idempotency WHERE operation LIKE 'persons.%' AND json_extract(response, '$.id') = ?",
    ).run(id);
    return r.changes > 0 ? { templates: n } : null;
  }

  addTemplate(t: { id: string; personId: string; modelId: string; ciphertext: Buffer }): TemplateRecord {
    const at = nowIso();
    this.sql(
      'INSERT INTO face_templates (id, person_id, model_id, ciphertext, created_at) VALUES (?, ?, ?, ?, ?)',
    ).run(t.id, t.personId, t.modelId, t.ciphertext, at);
    this.sql('UPDATE persons SET updated_at = ? WHERE id = ?').run(at, t.personId);
    return { ...t, createdAt: at };
  }

  templatesOf(personId: string): TemplateRecord[] {
    return (
      this.sql('SELECT * FROM face_templates WHERE person_id = ? ORDER BY created_at, id').all(
        personId,
      ) as TemplateRow[]
    ).map(template);
  }

  /** Every template, for loading the gallery at start. */
  *allTemplates(): Generator<TemplateRecord> {
    for (const r of this.sql(
      'SELECT * FROM face_templates ORDER BY person_id, created_at',
    ).iterate() as Iterable<TemplateRow>) {
      yield template(r);
    }
  }
}
