// The CLI's way to the running daemon: the local HTTP API with the admin token from the state dir, so the
// CLI goes through the same operations catalog (scopes, validation, audit) as the counter software.
import { terminalLocale } from '../messages/locale.js';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../../config/schema.js';
import { BOOTSTRAP_TOKEN_FILE } from '../store/state-dir.js';
import { CliError, EXIT_UNAVAILABLE } from './support.js';

export class DaemonClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  /** Where the daemon of this config listens, as seen from the box itself. */
  static urlOf(config: Config): string {
    const host = ['0.0.0.0', '::', ''].includes(config.http.host) ? '127.0.0.1' : config.http.host;
    return `http://${host.includes(':') ? `[${host}]` : host}:${config.http.port}`;
  }

  static fromConfig(config: Config): DaemonClient {
    const url = DaemonClient.urlOf(config);
    const tokenFile = join(resolve(config.storage.dir), BOOTSTRAP_TOKEN_FILE);
    let token: string;
    try {
      token = readFileSync(tokenFile, 'utf8').trim();
    } catch {
      throw new CliError(
        `cannot read the admin token ${tokenFile} (the daemon writes it on first start; run as root or boxagent)`,
        EXIT_UNAVAILABLE,
      );
    }
    return new DaemonClient(url, token);
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return JSON.parse((await this.request(method, path, body)).toString('utf8')) as T;
  }

  /** A call whose answer is not JSON (a camera snapshot, a print preview). */
  async callBinary(method: string, path: string, body?: unknown): Promise<Buffer> {
    return this.request(method, path, body);
  }

  private async request(method: string, path: string, body?: unknown): Promise<Buffer> {
    let res: Response;
    try {
      res = await fetch(this.baseUrl + path, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          // The daemon's problem texts in the terminal's language (the CLI's own lines stay English).
          'accept-language': terminalLocale(process.env),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch {
      throw new CliError(
        `the daemon is not running (nothing answers on ${this.baseUrl}); start it with: systemctl start boxagent`,
        EXIT_UNAVAILABLE,
      );
    }
    const bytes = Buffer.from(await res.arrayBuffer());
    if (!res.ok) {
      const text = bytes.toString('utf8');
      let detail = text;
      try {
        const p = JSON.parse(text) as { title?: string; detail?: string };
        detail = p.detail ?? p.title ?? text;
      } catch {
        // not a problem document; show the text
      }
      throw new CliError(`the daemon refused: ${detail} (HTTP ${res.status})`);
    }
    return bytes;
  }
}
