// Bearer tokens: `bxa_<id>_<secret>`. Only a SHA-256 of the secret is stored (the secret is 256 random bits,
// so a slow hash adds nothing); the lookup is by id and the comparison is constant-time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { SCOPES, type Scope } from '../../config/schema.js';
import type { Store } from '../store/store.js';
import type { TokenRecord } from '../store/tokens.js';

const TOKEN_RE = /^bxa_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export interface Principal {
  tokenId: string;
  name: string;
  scopes: readonly Scope[];
}

/** The id part of something shaped like a token (it may still be wrong); undefined when it is not one. */
export function claimedTokenId(token: string | undefined): string | undefined {
  return token === undefined ? undefined : TOKEN_RE.exec(token)?.[1];
}

export type AuthFailure = 'missing' | 'malformed' | 'unknown' | 'revoked' | 'expired' | 'origin-mismatch';

export class TokenError extends Error {
  override name = 'TokenError';
}

export interface TokenSummary {
  id: string;
  name: string;
  scopes: Scope[];
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  /** The browser Origin a paired token is bound to; null for a token usable from anywhere (CLI-made). */
  origin: string | null;
}

export function hasScope(principal: Principal, needed: Scope): boolean {
  return principal.scopes.includes('admin') || principal.scopes.includes(needed);
}

export function parseScopes(list: string): Scope[] {
  const scopes = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (scopes.length === 0) throw new TokenError(`give at least one scope (${SCOPES.join(', ')})`);
  for (const s of scopes) {
    if (!(SCOPES as readonly string[]).includes(s))
      throw new TokenError(`unknown scope "${s}" (known: ${SCOPES.join(', ')})`);
  }
  return [...new Set(scopes)] as Scope[];
}

const hashSecret = (secret: string): Buffer => createHash('sha256').update(secret).digest();

/** last_used_at is written at most this often per token, so authentication stays read-only. */
const TOUCH_EVERY_MS = 60_000;

/** Token records kept in memory at most; a flood of made-up ids cannot grow the cache past this. */
const CACHE_MAX = 1000;
/**
 * How long the token table's fingerprint is trusted before it is read again. A revocation made by another
 * process (the CLI) takes effect within this time; this process's own changes take effect at once.
 */
const FINGERPRINT_TTL_MS = 100;

export class TokenService {
  private readonly touchedAt = new Map<string, number>();
  /** Token records by id (null: no such id), valid while the token table's fingerprint stays the same. */
  private readonly cache = new Map<string, TokenRecord | null>();
  private cacheFingerprint = '';
  private fingerprintReadAt = 0;

  constructor(
    private readonly store: Store,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Creates a token; the returned `token` is the only time the secret exists outside the caller. */
  create(opts: {
    name: string;
    scopes: Scope[];
    expiresInDays?: number;
    actor: string;
    /** Bind the token to this browser Origin (a paired page): refused without it or with another. */
    origin?: string;
  }): {
    token: string;
    summary: TokenSummary;
  } {
    if (!/^[\w.@-]{1,64}$/.test(opts.name)) {
      throw new TokenError('token name: use 1-64 letters, digits, "_", "-", "." or "@"');
    }
    if (opts.scopes.length === 0) throw new TokenError('a token needs at least one scope');
    if (opts.expiresInDays !== undefined && !(opts.expiresInDays > 0 && opts.expiresInDays <= 36_500)) {
      throw new TokenError('expiry must be between 0 and 36500 days');
    }
    if (this.store.tokens.findActiveByName(opts.name))
      throw new TokenError(`an active token named "${opts.name}" exists; revoke it first`);
    const id = randomBytes(8).toString('hex').slice(0, 12);
    const secret = randomBytes(32).toString('base64url');
    const expiresAt =
      opts.expiresInDays === undefined
        ? null
        : new Date(this.now().getTime() + opts.expiresInDays * 86_400_000).toISOString();
    this.cache.clear();
    this.store.transaction(() => {
      this.store.tokens.insert({
        id,
        name: opts.name,
        secretHash: hashSecret(secret),
        scopes: opts.scopes,
        expiresAt,
        origin: opts.origin ?? null,
      });
      this.store.audit.append({
        actor: opts.actor,
        action: 'token.create',
        target: id,
        detail: {
          name: opts.name,
          scopes: opts.scopes,
          expiresAt,
          ...(opts.origin === undefined ? {} : { origin: opts.origin }),
        },
      });
    });
    return { token: `bxa_${id}_${secret}`, summary: summarize(this.store.tokens.get(id) as TokenRecord) };
  }

  list(): TokenSummary[] {
    return this.store.tokens.list().map(summarize);
  }

  revoke(idOrName: string, actor: string): boolean {
    this.cache.clear();
    return this.store.transaction(() => {
      const ok = this.store.tokens.revoke(idOrName);
      if (ok) this.store.audit.append({ actor, action: 'token.revoke', target: idOrName });
      return ok;
    });
  }

  /** Whether `token` is a valid, active token (used to re-announce the bootstrap token). */
  isActive(token: string): boolean {
    return typeof this.authenticate(token) !== 'string';
  }

  /** The record for `id`, from memory unless another process (the CLI) has written to the database since. */
  private lookup(id: string): TokenRecord | undefined {
    const now = Date.now();
    if (now - this.fingerprintReadAt >= FINGERPRINT_TTL_MS || now < this.fingerprintReadAt) {
      this.fingerprintReadAt = now;
      const fingerprint = this.store.tokens.fingerprint();
      if (fingerprint !== this.cacheFingerprint) {
        this.cache.clear();
        this.cacheFingerprint = fingerprint;
      }
    }
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    let record = this.cache.get(id);
    if (record === undefined) {
      record = this.store.tokens.get(id) ?? null;
      this.cache.set(id, record);
    }
    return record ?? undefined;
  }

  /**
   * The principal of `token`, or why not. `origin` is the request's Origin header (absent: undefined); a token
   * bound to an Origin is refused without it or with another, so a paired page's token is useless elsewhere.
   */
  authenticate(token: string | undefined, origin?: string): Principal | AuthFailure {
    if (!token) return 'missing';
    const m = TOKEN_RE.exec(token);
    if (!m) return 'malformed';
    const record = this.lookup(m[1] as string);
    // Hash even when the id is unknown so a miss costs the same as a wrong secret.
    const presented = hashSecret(m[2] as string);
    const expected = record?.secretHash ?? Buffer.alloc(presented.length);
    if (!timingSafeEqual(presented, expected) || !record) return 'unknown';
    if (record.revokedAt) return 'revoked';
    if (record.expiresAt && Date.parse(record.expiresAt) <= this.now().getTime()) return 'expired';
    if (record.origin !== null && record.origin !== origin) return 'origin-mismatch';
    const now = this.now().getTime();
    const touched = this.touchedAt.get(record.id) ?? 0;
    // `now < touched`: the clock went back; touch again rather than wait for it to catch up.
    if (now - touched >= TOUCH_EVERY_MS || now < touched) {
      this.touchedAt.set(record.id, now);
      this.store.tokens.touch(record.id);
    }
    return { tokenId: record.id, name: record.name, scopes: record.scopes };
  }
}

function summarize(r: TokenRecord): TokenSummary {
  return {
    id: r.id,
    name: r.name,
    scopes: r.scopes,
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    revokedAt: r.revokedAt,
    lastUsedAt: r.lastUsedAt,
    origin: r.origin,
  };
}
