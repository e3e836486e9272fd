import type Database from 'better-sqlite3';

/**
 * Returns a `prepare` that compiles each SQL text once. Preparing is most of the cost of a point query, and
 * the token lookup runs on every request.
 */
export function statementCache(db: Database.Database): (sql: string) => Database.Statement {
  const cache = new Map<string, Database.Statement>();
  return (sql) => {
    let stmt = cache.get(sql);
    if (!stmt) {
      stmt = db.prepare(sql);
      cache.set(sql, stmt);
    }
    return stmt;
  };
}
