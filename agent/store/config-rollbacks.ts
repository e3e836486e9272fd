import type Database from 'better-sqlite3';
import { statementCache } from './statements.js';
import { nowIso } from './time.js';

/** Desired config versions that were rolled back (migration 9): never applied again by the box itself. */
export class ConfigRollbackRepository {
  private readonly sql: (sql: string) => Database.Statement;

  constructor(db: Database.Database) {
    this.sql = statementCache(db);
  }

  remember(version: number, errors: string[]): void {
    this.sql('INSERT OR REPLACE INTO fleet_config_rollbacks (version, errors, at) VALUES (?, ?, ?)').run(
      version,
      JSON.stringify(errors),
      nowIso(),
    );
  }

  /** Why `version` was rolled back, or undefined when it never was. */
  find(version: number): { errors: string[]; at: string } | undefined {
    const row = this.sql('SELECT errors, at FROM fleet_config_rollbacks WHERE version = ?').get(version) as
      { errors: string; at: string } | undefined;
    return row ? { errors: JSON.parse(row.errors) as string[], at: row.at } : undefined;
  }
}
