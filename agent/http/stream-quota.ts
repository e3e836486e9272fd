// Streams without end (SSE events, MJPEG viewers) each hold a connection for as long as the client likes, so
// one token may hold at most `http.streamsPerToken` of them, both kinds together: a runaway page or a leaked
// token cannot take the connections every other caller needs.
import type { ServerResponse } from 'node:http';
import { Problem } from '../problems/problem.js';
import { t } from '../messages/text.js';

/** What a refused stream is told: streams end when their viewer leaves, so no exact time can be given. */
const RETRY_AFTER_SECONDS = 5;

export class StreamQuota {
  private readonly open = new Map<string, number>();

  constructor(private readonly perToken: number) {}

  /**
   * Counts a stream for `tokenId` until `res` closes; throws 429 `rate-limited` (with Retry-After) when the
   * token already holds its share. Call before the reply is hijacked, so the refusal is a problem document.
   */
  take(tokenId: string, res: ServerResponse): void {
    const n = this.open.get(tokenId) ?? 0;
    if (n >= this.perToken) {
      throw new Problem(
        'rate-limited',
        t`this token already holds ${this.perToken} open streams (http.streamsPerToken); close one first`,
        undefined,
        { retryAfter: RETRY_AFTER_SECONDS },
      );
    }
    if (res.closed) return; // the client left already: nothing to hold, and 'close' will not come again
    this.open.set(tokenId, n + 1);
    res.once('close', () => {
      const left = (this.open.get(tokenId) ?? 1) - 1;
      if (left > 0) this.open.set(tokenId, left);
      else this.open.delete(tokenId);
    });
  }
}
