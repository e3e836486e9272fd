// An IPP client over HTTP (RFC 8010 §4, RFC 8011): one POST of `application/ipp` per operation. `ipp://`
// is HTTP on port 631 unless the URL names another; `ipps://` is HTTPS.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import {
  decodeMessage,
  encodeRequest,
  IPP_OPERATIONS,
  type GroupName,
  type IppResponse,
  type OutAttribute,
} from './ipp-codec.js';

/** The printer could not be reached or did not answer in time (nothing is known to have arrived). */
export class IppTransportError extends Error {
  override name = 'IppTransportError';
  constructor(
    message: string,
    /** True when the request body may have reached the printer before the failure. */
    readonly sent: boolean,
  ) {
    super(message);
  }
}

/** The printer answered with an error status. */
export class IppStatusError extends Error {
  override name = 'IppStatusError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const STATUS_NAMES: Record<number, string> = {
  0x0400: 'client-error-bad-request',
  0x0401: 'client-error-forbidden',
  0x0402: 'client-error-not-authenticated',
  0x0403: 'client-error-not-authorized',
  0x0404: 'client-error-not-possible',
  0x0405: 'client-error-timeout',
  0x0406: 'client-error-not-found',
  0x040a: 'client-error-document-format-not-supported',
  0x040b: 'client-error-attributes-or-values-not-supported',
  0x0500: 'server-error-internal-error',
  0x0506: 'server-error-not-accepting-jobs',
  0x0507: 'server-error-busy',
};

export function statusName(status: number): string {
  return STATUS_NAMES[status] ?? `0x${status.toString(16).padStart(4, '0')}`;
}

export interface IppClientOptions {
  /** `ipp://host[:port]/path` or `ipps://…` (http:// and https:// are accepted too). */
  url: string;
  timeoutMs?: number;
  requestingUser?: string;
}

export class IppClient {
  private readonly target: URL;
  private nextId = 1;

  constructor(private readonly opts: IppClientOptions) {
    const u = new URL(opts.url);
    const secure = u.protocol === 'ipps:' || u.protocol === 'https:';
    if (!['ipp:', 'ipps:', 'http:', 'https:'].includes(u.protocol)) {
      throw new Error(`not an IPP URL: ${opts.url}`);
    }
    this.target = new URL(`${secure ? 'https' : 'http'}://${u.host}${u.pathname}${u.search}`);
    if (u.port === '' && (u.protocol === 'ipp:' || u.protocol === 'ipps:')) this.target.port = '631';
  }

  /** The printer-uri attribute value: the configured URL in ipp:// form. */
  get printerUri(): string {
    return this.opts.url.replace(/^http(s?):/, 'ipp$1:');
  }

  getPrinterAttributes(requested: string[]): Promise<IppResponse> {
    return this.call(IPP_OPERATIONS.getPrinterAttributes, [
      { tag: 'keyword', name: 'requested-attributes', values: requested },
    ]);
  }

  printJob(
    data: Buffer,
    opts: { format: string; jobName: string; job?: OutAttribute[] },
  ): Promise<IppResponse> {
    return this.call(
      IPP_OPERATIONS.printJob,
      [
        { tag: 'nameWithoutLanguage', name: 'job-name', values: [opts.jobName] },
        { tag: 'mimeMediaType', name: 'document-format', values: [opts.format] },
      ],
      opts.job,
      data,
    );
  }

  getJobAttributes(jobId: number, requested: string[]): Promise<IppResponse> {
    return this.call(IPP_OPERATIONS.getJobAttributes, [
      { tag: 'integer', name: 'job-id', values: [jobId] },
      { tag: 'keyword', name: 'requested-attributes', values: requested },
    ]);
  }

  /** Sends one operation; resolves with a successful response, throws IppStatusError otherwise. */
  async call(
    operation: number,
    operationAttrs: OutAttribute[],
    jobAttrs?: OutAttribute[],
    data?: Buffer,
  ): Promise<IppResponse> {
    const groups: { name: GroupName; attributes: OutAttribute[] }[] = [
      {
        name: 'operation',
        attributes: [
          { tag: 'charset', name: 'attributes-charset', values: ['utf-8'] },
          { tag: 'naturalLanguage', name: 'attributes-natural-language', values: ['en'] },
          { tag: 'uri', name: 'printer-uri', values: [this.printerUri] },
          {
            tag: 'nameWithoutLanguage',
            name: 'requesting-user-name',
            values: [this.opts.requestingUser ?? 'boxagent'],
          },
          ...operationAttrs,
        ],
      },
    ];
    if (jobAttrs && jobAttrs.length > 0) groups.push({ name: 'job', attributes: jobAttrs });
    const body = encodeRequest({ operation, requestId: this.nextId++, groups, ...(data ? { data } : {}) });
    const res = decodeMessage(await this.post(body));
    if (res.status >= 0x0400) {
      const message = res.groups.find((g) => g.name === 'operation')?.attributes.get('status-message')?.[0];
      throw new IppStatusError(
        res.status,
        `${statusName(res.status)}${typeof message === 'string' ? `: ${message}` : ''}`,
      );
    }
    return res;
  }

  private post(body: Buffer): Promise<Buffer> {
    const timeoutMs = this.opts.timeoutMs ?? 10_000;
    const request = this.target.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      let sent = false;
      const req = request(
        this.target,
        {
          method: 'POST',
          headers: { 'content-type': 'application/ipp', 'content-length': body.length },
          timeout: timeoutMs,
          // Printers present self-signed certificates; IPPS here is for privacy on the wire, not identity.
          rejectUnauthorized: false,
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            if (res.statusCode !== 200) {
              reject(new IppTransportError(`HTTP ${res.statusCode} from ${this.target.host}`, true));
            } else resolve(Buffer.concat(chunks));
          });
          res.on('error', (err) => reject(new IppTransportError(err.message, true)));
        },
      );
      req.on('timeout', () =>
        req.destroy(new Error(`no answer from ${this.target.host} in ${timeoutMs} ms`)),
      );
      req.on('error', (err: NodeJS.ErrnoException) =>
        reject(
          new IppTransportError(`${this.target.host}: ${err.message}`, sent && err.code !== 'ECONNREFUSED'),
        ),
      );
      req.end(body, () => {
        sent = true;
      });
    });
  }
}
