// Numbered schema migrations. Append only: a shipped migration is never edited; PRAGMA user_version
// records how many have run.
export const MIGRATIONS: readonly string[] = [
  // 1: the foundation tables.
  `
  CREATE TABLE tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    secret_hash  BLOB NOT NULL,
    scopes       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT,
    revoked_at   TEXT,
    last_used_at TEXT
  );
  CREATE UNIQUE INDEX tokens_active_name ON tokens(name) WHERE revoked_at IS NULL;

  CREATE TABLE jobs (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    device_id  TEXT,
    state      TEXT NOT NULL,
    input      TEXT NOT NULL,
    result     TEXT,
    error      TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE INDEX jobs_state ON jobs(state, created_at);

  CREATE TABLE idempotency (
    principal    TEXT NOT NULL,
    operation    TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response     TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (principal, operation, key)
  );

  -- The event log is also the fleet outbox: rows are published in seq order and marked published.
  CREATE TABLE outbox (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    type         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    published_at TEXT
  );

  CREATE TABLE audit (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT,
    detail    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
  );

  CREATE TABLE persons (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE TABLE face_templates (
    id         TEXT PRIMARY KEY,
    person_id  TEXT NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    model_id   TEXT NOT NULL,
    ciphertext BLOB NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE INDEX face_templates_person ON face_templates(person_id);
  `,
  // 2: the fleet link finds unsent events without walking the sent ones.
  `
  CREATE INDEX outbox_unsent ON outbox(seq) WHERE published_at IS NULL;
  `,
  // 3: certificate jobs (compose → print on the photo printer → seal job). Their own table: the steps
  // they have passed (the printer's job id, the document's hash, the seal job) are columns, not JSON.
  `
  CREATE TABLE certificates (
    id              TEXT PRIMARY KEY,
    printer         TEXT NOT NULL,
    template        TEXT NOT NULL,
    state           TEXT NOT NULL,
    input           TEXT NOT NULL,
    document_sha256 TEXT,
    remote_job_id   INTEGER,
    seal_job_id     TEXT,
    seal_token      TEXT,
    error           TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
  );
  CREATE INDEX certificates_queue ON certificates(printer, state, created_at);
  `,
  // 4: one job table for every kind (the job engine, agent/jobs/). Print, seal and self-test jobs come over
  // from the old `jobs` in their insertion order (self-tests renamed to kind `selftest`), certificates from
  // their own table with their step columns in `steps`. States are kept as they were: start-up recovery,
  // not the migration, decides what a job left mid-way becomes, so nothing is re-sent by the upgrade.
  `
  ALTER TABLE jobs RENAME TO jobs_v3;
  CREATE TABLE jobs (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL,
    device     TEXT NOT NULL,
    state      TEXT NOT NULL,
    input      TEXT NOT NULL,
    steps      TEXT NOT NULL DEFAULT '{}',
    result     TEXT,
    error      TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE INDEX jobs_queue ON jobs(kind, device, state, seq);
  INSERT INTO jobs (id, kind, device, state, input, result, error, created_at, updated_at)
    SELECT id, CASE kind WHEN 'device.self-test' THEN 'selftest' ELSE kind END, COALESCE(device_id, ''),
           state, input, result, error, created_at, updated_at
    FROM jobs_v3 ORDER BY rowid;
  INSERT INTO jobs (id, kind, device, state, input, steps, error, created_at, updated_at)
    SELECT id, 'certificate', printer, state, json_set(input, '$.template', template),
           json_patch('{}', json_object('documentSha256', document_sha256, 'remoteJobId', remote_job_id,
                                        'sealJobId', seal_job_id, 'sealToken', seal_token)),
           CASE WHEN error IS NULL THEN NULL ELSE json_quote(error) END, created_at, updated_at
    FROM certificates ORDER BY created_at, rowid;
  DROP TABLE jobs_v3;
  DROP TABLE certificates;
  `,
  // 5: nonces of signed fleet requests, so a signed request runs at most once, across restarts too. A row is
  // kept until its signature's timestamp leaves the replay window (`expires_at`, unix ms); then the timestamp
  // check refuses the request anyway.
  `
  CREATE TABLE used_nonces (
    key_id     TEXT NOT NULL,
    nonce      TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (key_id, nonce)
  ) WITHOUT ROWID;
  CREATE INDEX used_nonces_expiry ON used_nonces(expires_at);
  `,
  // 6: audit entries carry a keyed MAC (HMAC-SHA-256, key in <storage.dir>/audit.key). Entries from before
  // keep the unkeyed hash and `keyed = 0`; they may only form the start of the chain.
  `
  ALTER TABLE audit ADD COLUMN keyed INTEGER NOT NULL DEFAULT 0;
  `,
  // 7: pairing (issue 15). A token may be bound to a browser Origin (null: any caller, as CLI-made tokens
  // are). A pairing keeps only a hash of its poll id (the requester's secret) and never the token it issues:
  // the token is made when the requester collects it, and only its hash goes to `tokens`.
  `
  ALTER TABLE tokens ADD COLUMN origin TEXT;
  CREATE TABLE pairings (
    id_hash         TEXT PRIMARY KEY,
    code            TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    origin          TEXT NOT NULL,
    scopes          TEXT NOT NULL,
    state           TEXT NOT NULL,
    approved_scopes TEXT,
    decided_by      TEXT,
    decided_at      TEXT,
    token_id        TEXT,
    delivered_at    TEXT,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL
  );
  CREATE INDEX pairings_state ON pairings(state, origin, expires_at);
  `,
  // 8: one-time admin login links for the local page (`boxagent admin-link`). Only a hash of the link's secret
  // is kept; `used_at` makes it single-use, `token_id` names the admin session it was exchanged for.
  `
  CREATE TABLE admin_links (
    secret_hash TEXT PRIMARY KEY,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT,
    token_id    TEXT
  ) WITHOUT ROWID;
  `,
  // 9: desired config versions the box rolled back (issue 18). Such a version is never applied again by
  // itself: seen again (a restart, a reconnect) it is reported `rolled_back` at once; the fleet sends a new one.
  `
  CREATE TABLE fleet_config_rollbacks (
    version INTEGER PRIMARY KEY,
    errors  TEXT NOT NULL,
    at      TEXT NOT NULL
  );
  `,
];
