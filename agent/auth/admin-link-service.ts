// Admin login for the box's own local page (issue 15): `boxagent admin-link` makes a one-time secret and
// prints it as a link `http://127.0.0.1:<port>/#login=<secret>`; the page exchanges it once for a short-lived
// admin session token bound to the page's origin. The secret travels in the URL fragment, which browsers never
// send to a server or in a Referer. Only its hash is stored; it expires and cannot be used twice.
import { createHash, randomBytes } from 'node:crypto';
import type { Store } from '../store/store.js';
import type { TokenService } from './token-service.js';

/** How long a printed link can be used. */
export const ADMIN_LINK_TTL_MS = 10 * 60_000;
/** How long the admin session a link is exchanged for lasts (a working day). */
export const ADMIN_SESSION_HOURS = 12;
/** 256 random bits, base64url. */
const SECRET_RE = /^[A-Za-z0-9_-]{43}$/;

const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');

export interface AdminSession {
  token: string;
  tokenId: string;
  expiresAt: string;
}

export class AdminLinkService {
  constructor(
    private readonly store: Store,
    private readonly tokens: TokenService,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** A new one-time secret (returned once; only its hash is kept). `by` is who asked, for the audit log. */
  create(by: string): { secret: string; expiresAt: string } {
    const secret = randomBytes(32).toString('base64url');
    const now = this.now();
    const expiresAt = new Date(now.getTime() + ADMIN_LINK_TTL_MS).toISOString();
    const secretHash = hashSecret(secret);
    this.store.transaction(() => {
      this.store.adminLinks.purge(new Date(now.getTime() - 86_400_000).toISOString());
      this.store.adminLinks.insert({ secretHash, createdBy: by, createdAt: now.toISOString(), expiresAt });
      this.store.audit.append({
        actor: by,
        action: 'admin-link.create',
        target: secretHash.slice(0, 16),
        detail: { expiresAt },
      });
    });
    return { secret, expiresAt };
  }

  /**
   * Exchanges a link's secret for an admin session token bound to `origin` (the page's own origin). Undefined
   * when the secret is unknown, used or expired — the caller counts that as a failed attempt.
   */
  exchange(secret: string, origin: string): AdminSession | undefined {
    if (!SECRET_RE.test(secret)) return undefined;
    const secretHash = hashSecret(secret);
    const now = this.now();
    return this.store.transaction(() => {
      if (!this.store.adminLinks.use(secretHash, now.toISOString())) return undefined;
      const created = this.tokens.create({
        // Token names are unique among active tokens; several sessions may be open at once.
        name: `admin-session-${randomBytes(4).toString('hex')}`,
        scopes: ['admin'],
        origin,
        expiresInDays: ADMIN_SESSION_HOURS / 24,
        actor: 'admin-link',
      });
      this.store.adminLinks.exchangedFor(secretHash, created.summary.id);
      this.store.audit.append({
        actor: 'admin-link',
        action: 'admin-link.use',
        target: secretHash.slice(0, 16),
        detail: { tokenId: created.summary.id, origin },
      });
      return {
        token: created.token,
        tokenId: created.summary.id,
        expiresAt: created.summary.expiresAt as string,
      };
    });
  }
}
