// Pairing (issue 15): a page on an allowed Origin asks for a token and shows a short code; an admin approves the
// code on the box (CLI or admin API), possibly narrowing the scopes; the page polls with its unguessable id and
// receives, once, a token bound to its Origin. Everything lives in the database, so the CLI can approve with the
// daemon stopped or running, and the daemon (which alone hands tokens out) sees it on the next poll.
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { t } from '../messages/text.js';
import type { Scope } from '../../config/schema.js';
import type { EventLog } from '../events/event-log.js';
import { Problem } from '../problems/problem.js';
import type { PairingRecord, PairingState } from '../store/pairings.js';
import type { Store } from '../store/store.js';
import type { TokenService } from './token-service.js';

/** Letters and digits no one misreads (no 0/O, 1/I/L): 31 symbols, 8 of them ≈ 39.6 bits. */
export const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
const CODE_RE = new RegExp(`^[${CODE_ALPHABET}]{4}-[${CODE_ALPHABET}]{4}$`);
/** The poll id: 128 random bits, base64url. */
const ID_RE = /^[A-Za-z0-9_-]{22}$/;
/** Settled requests are kept this long after their last deadline, then purged (the audit log keeps them). */
const KEEP_SETTLED_MS = 86_400_000;

export interface PairingSettings {
  ttlSeconds: number;
  maxPending: number;
  maxPendingPerOrigin: number;
}

/** What the requesting page is told when it asks (201). */
export interface PairingTicket {
  id: string;
  code: string;
  expiresAt: string;
  scopes: Scope[];
  name: string;
}

/** What the requesting page sees when it polls; `token` only on the first read after approval. */
export interface PairingStatus {
  id: string;
  state: PairingState;
  expiresAt: string;
  scopes?: Scope[];
  token?: string;
}

/** A pairing as the box's admin sees it (never the poll id). */
export interface PairingView {
  id: string;
  code: string;
  name: string;
  origin: string;
  state: PairingState;
  scopes: Scope[];
  approvedScopes: Scope[] | null;
  createdAt: string;
  expiresAt: string;
  decidedBy: string | null;
  tokenId: string | null;
}

const hashId = (id: string): string => createHash('sha256').update(id).digest('hex');
/** The public reference events, lists and the audit log use: a digest prefix, which cannot be polled with. */
const refOf = (idHash: string): string => idHash.slice(0, 16);

/** `abcd2345`, `ABCD 2345`, `abcd-2345` → `ABCD-2345`; undefined when it cannot be a code. */
export function normalizeCode(text: string): string | undefined {
  const compact = text.replace(/[\s-]/g, '').toUpperCase();
  const code = `${compact.slice(0, 4)}-${compact.slice(4)}`;
  return CODE_RE.test(code) ? code : undefined;
}

function newCode(): string {
  let s = '';
  for (let i = 0; i < 8; i++) s += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return `${s.slice(0, 4)}-${s.slice(4)}`;
}

function view(p: PairingRecord): PairingView {
  return {
    id: refOf(p.idHash),
    code: p.code,
    name: p.name,
    origin: p.origin,
    state: p.state,
    scopes: p.scopes,
    approvedScopes: p.approvedScopes,
    createdAt: p.createdAt,
    expiresAt: p.expiresAt,
    decidedBy: p.decidedBy,
    tokenId: p.tokenId,
  };
}

export class PairingService {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    private readonly events: EventLog,
    private readonly tokens: TokenService,
    private readonly settings: PairingSettings,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Expires lapsed requests every second, so `pairing.expired` reaches the local page without a poll. */
  start(): void {
    this.timer = setInterval(() => this.expireDue(), 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** A page asks to pair. `origin` is its (allowed) Origin; 429 past the pending limits. */
  request(input: { name: string; scopes: Scope[]; origin: string }): PairingTicket {
    const scopes = [...new Set(input.scopes)];
    if (scopes.length === 0) throw new Problem('invalid-request', t`ask for at least one scope`, ['scopes']);
    if (scopes.includes('admin')) {
      throw new Problem('invalid-request', t`scope "admin" cannot be asked for by pairing`, ['scopes']);
    }
    this.expireDue();
    const now = this.now();
    return this.store.transaction(() => {
      this.limit(this.store.pairings.pending(), this.settings.maxPending, 'pending pairing requests');
      this.limit(
        this.store.pairings.pending(input.origin),
        this.settings.maxPendingPerOrigin,
        `pending pairing requests from ${input.origin}`,
      );
      this.store.pairings.purge(new Date(now.getTime() - KEEP_SETTLED_MS).toISOString());
      const id = randomBytes(16).toString('base64url');
      const idHash = hashId(id);
      let code = newCode();
      while (this.store.pairings.codeInUse(code)) code = newCode();
      const expiresAt = new Date(now.getTime() + this.settings.ttlSeconds * 1000).toISOString();
      this.store.pairings.insert({
        idHash,
        code,
        name: input.name,
        origin: input.origin,
        scopes,
        createdAt: now.toISOString(),
        expiresAt,
      });
      const ref = refOf(idHash);
      this.store.audit.append({
        actor: input.origin,
        action: 'pairing.request',
        target: ref,
        detail: { code, name: input.name, origin: input.origin, scopes, expiresAt },
      });
      this.events.publish('pairing.requested', {
        id: ref,
        code,
        name: input.name,
        origin: input.origin,
        scopes,
        expiresAt,
      });
      return { id, code, expiresAt, scopes, name: input.name };
    });
  }

  /**
   * The state of the pairing `id` for a poll from `origin`; undefined when there is no such pairing *for that
   * origin* (the caller answers 404 either way, so another origin cannot learn that it exists). The first read
   * after approval makes the token (only its hash is stored) and returns it; later reads never again.
   */
  status(id: string, origin: string | undefined): PairingStatus | undefined {
    if (!ID_RE.test(id) || origin === undefined) return undefined;
    const idHash = hashId(id);
    this.expireDue();
    const found = this.store.pairings.byIdHash(idHash);
    if (!found || found.origin !== origin) return undefined;
    const base = { id, state: found.state, expiresAt: found.expiresAt };
    if (found.state === 'pending') return { ...base, scopes: found.scopes };
    if (found.state !== 'approved') return base;
    const scopes = found.approvedScopes ?? [];
    if (found.tokenId !== null) return { ...base, scopes };
    const token = this.store.transaction(() => {
      const created = this.tokens.create({
        name: `pairing-${found.code}`,
        scopes,
        origin: found.origin,
        actor: `pairing ${refOf(idHash)}`,
      });
      // Another process cannot hand tokens out, but a second poll may race this one: only one wins.
      if (!this.store.pairings.delivered(idHash, created.summary.id, this.now().toISOString())) {
        throw new Problem('pairing-conflict', t`the token of this pairing was already collected`);
      }
      return created.token;
    });
    return { ...base, scopes, token };
  }

  /** Pending requests, oldest first. */
  pending(): PairingView[] {
    this.expireDue();
    return this.store.pairings.pending().map(view);
  }

  /**
   * Approves the request with this code. `scopes` may narrow what was asked, never widen it; `by` is who
   * approved (audited). 404 for an unknown code, 410 once expired, 409 when already decided.
   */
  approve(codeText: string, opts: { scopes?: Scope[]; by: string }): PairingView {
    const found = this.decidable(codeText);
    const granted = opts.scopes === undefined ? found.scopes : [...new Set(opts.scopes)];
    if (granted.length === 0) throw new Problem('invalid-request', t`grant at least one scope`, ['scopes']);
    for (const [i, s] of granted.entries()) {
      if (!found.scopes.includes(s)) {
        throw new Problem(
          'invalid-request',
          t`scope "${s}" was not asked for (asked: ${found.scopes.join(', ')}); approval can only narrow`,
          ['scopes', i],
        );
      }
    }
    const now = this.now();
    // The token must now be collected within another TTL; until then the page's poll gets it.
    const expiresAt = new Date(now.getTime() + this.settings.ttlSeconds * 1000).toISOString();
    return this.store.transaction(() => {
      if (
        !this.store.pairings.decide(found.idHash, 'pending', 'approved', {
          by: opts.by,
          at: now.toISOString(),
          approvedScopes: granted,
          expiresAt,
        })
      ) {
        throw new Problem('pairing-conflict', t`pairing ${found.code} was decided meanwhile`);
      }
      const ref = refOf(found.idHash);
      this.store.audit.append({
        actor: opts.by,
        action: 'pairing.approve',
        target: ref,
        detail: { code: found.code, name: found.name, origin: found.origin, asked: found.scopes, granted },
      });
      this.events.publish('pairing.approved', {
        id: ref,
        code: found.code,
        origin: found.origin,
        scopes: granted,
        by: opts.by,
      });
      return view(this.store.pairings.byIdHash(found.idHash) as PairingRecord);
    });
  }

  deny(codeText: string, by: string): PairingView {
    const found = this.decidable(codeText);
    return this.store.transaction(() => {
      if (
        !this.store.pairings.decide(found.idHash, 'pending', 'denied', { by, at: this.now().toISOString() })
      ) {
        throw new Problem('pairing-conflict', t`pairing ${found.code} was decided meanwhile`);
      }
      const ref = refOf(found.idHash);
      this.store.audit.append({
        actor: by,
        action: 'pairing.deny',
        target: ref,
        detail: { code: found.code, name: found.name, origin: found.origin },
      });
      this.events.publish('pairing.denied', { id: ref, code: found.code, origin: found.origin, by });
      return view(this.store.pairings.byIdHash(found.idHash) as PairingRecord);
    });
  }

  /** Marks lapsed requests expired (audited, with an event each); returns how many. */
  expireDue(): number {
    const now = this.now().toISOString();
    const due = this.store.pairings.due(now);
    if (due.length === 0) return 0;
    return this.store.transaction(() => {
      let n = 0;
      for (const p of due) {
        const previous = p.state as 'pending' | 'approved';
        if (!this.store.pairings.decide(p.idHash, previous, 'expired', { at: now })) continue;
        n++;
        const ref = refOf(p.idHash);
        this.store.audit.append({
          actor: 'boxagent',
          action: 'pairing.expire',
          target: ref,
          detail: { code: p.code, name: p.name, origin: p.origin, previous },
        });
        this.events.publish('pairing.expired', { id: ref, code: p.code, origin: p.origin, previous });
      }
      return n;
    });
  }

  /** The pending request with this code, after expiring what is due; else the problem that says why not. */
  private decidable(codeText: string): PairingRecord {
    const code = normalizeCode(codeText);
    if (code === undefined) {
      throw new Problem('invalid-request', t`a pairing code looks like ABCD-2345`, ['code']);
    }
    this.expireDue();
    const found = this.store.pairings.byCode(code);
    if (!found) throw new Problem('not-found', t`no pairing request with code ${code}`, ['code']);
    if (found.state === 'expired') throw new Problem('pairing-expired', t`pairing ${code} has expired`);
    if (found.state !== 'pending')
      throw new Problem('pairing-conflict', t`pairing ${code} is ${found.state}`);
    return found;
  }

  private limit(pending: PairingRecord[], max: number, what: string): void {
    if (pending.length < max) return;
    const first = pending.reduce((a, b) => (a.expiresAt <= b.expiresAt ? a : b));
    const wait = Math.max(1, Math.ceil((Date.parse(first.expiresAt) - this.now().getTime()) / 1000));
    throw new Problem(
      'rate-limited',
      t`too many ${what} (at most ${max}); retry when one expires`,
      undefined,
      {
        retryAfter: wait,
      },
    );
  }
}
