// The resident ID card reader driver: speaks SAM frames over any ByteLink (a USB-serial port in the field,
// 115200 8N1 on most readers). Opening checks the SAM; then it polls find card → select → read about once a
// second and hands each card to its listeners, once per presentation: a card left on the reader is not read
// again until the reader has said "no card" (removed) and a card is found anew.
import type { DeviceDriver, DeviceIdentity, SelfTestResult } from '../device.js';
import type { ByteLink } from '../transport/byte-link.js';
import { decodeCardText, TEXT_LENGTH, type CardText } from './card-text.js';
import { loadSharp } from '../printer/lazy-modules.js';
import { WltDecoder, type WltDecoderOptions } from './wlt-decoder.js';
import {
  COMMANDS,
  FrameDecoder,
  STATUS,
  describeStatus,
  encodeCommand,
  parseReply,
  type CommandName,
  type Reply,
} from './frame-codec.js';

export interface IdCardReaderOptions {
  /** Opens the transport (serial port, in-process simulator link). */
  openLink: () => Promise<ByteLink>;
  /** Pause between two polls for a card. */
  pollIntervalMs: number;
  /** How long SAM status, find card and select may take to answer. */
  commandTimeoutMs: number;
  /** How long the text + photo read may take (the card itself is slow: ~0.5–1 s on real readers). */
  readTimeoutMs: number;
  /** The vendor's WLT photo decoder, when the installer configured one (else the photo stays WLT). */
  decoder?: WltDecoderOptions;
  /** Model name reported as the device identity. */
  model?: string;
}

export type ReaderErrorKind =
  | 'timeout'
  | 'checksum'
  | 'short'
  | 'oversized'
  | 'status'
  | 'link'
  /** The vendor's photo decoder failed on a card (the card itself was read). */
  | 'decoder';

/** A failed exchange with the reader, with a kind callers can branch on. */
export class IdCardReaderError extends Error {
  override name = 'IdCardReaderError';
  constructor(
    readonly kind: ReaderErrorKind,
    message: string,
    /** SW3 of the reply, for `status` errors. */
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface CardPhoto {
  /** Always `wlt`: the photo as the card holds it, compressed with the vendor's licensed codec. */
  format: 'wlt';
  /** The WLT bytes, base64. */
  data: string;
  bytes: number;
  /** The photo decoded by the vendor's library, as a JPEG (base64); null when it could not be. */
  jpeg: string | null;
  /** Size of the JPEG in bytes. */
  jpegBytes: number | null;
  width: number | null;
  height: number | null;
  /** Why there is no JPEG: no decoder configured, or what the decoder did (crashed, timed out, refused). */
  jpegUnavailable: string | null;
}

export interface CardRead extends CardText {
  photo: CardPhoto;
  readAt: string;
}

type CardListener = (card: CardRead) => void;
/** A card came onto the reader (`present`, before it is read) or left it (`removed`). */
export type PresenceListener = (change: 'present' | 'removed') => void;
type ErrorListener = (err: IdCardReaderError) => void;

interface PendingExchange {
  command: CommandName;
  resolve: (reply: Reply) => void;
  reject: (err: IdCardReaderError) => void;
  timer: NodeJS.Timeout;
}

export class IdCardReader implements DeviceDriver {
  private link: ByteLink | undefined;
  private unsubscribe: (() => void)[] = [];
  private readonly decoder = new FrameDecoder();
  private pending: PendingExchange | undefined;
  /** Commands run one after another: the protocol is strictly request/reply. */
  private queue: Promise<unknown> = Promise.resolve();
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;
  /** Counts opens, so a poll of an earlier session that ends late cannot start a second poll loop. */
  private session = 0;
  /** The card now on the reader has been read; cleared when the reader reports no card. */
  private presentationRead = false;
  /** The reader last said a card is there (found), until it says "no card". */
  private cardPresent = false;
  private readonly presenceListeners = new Set<PresenceListener>();
  private readonly cardListeners = new Set<CardListener>();
  private readonly errorListeners = new Set<ErrorListener>();
  private lostLink: IdCardReaderError | undefined;
  private readonly photoDecoder: WltDecoder | undefined;
  /** When the reader last answered anything (a poll's reply counts). */
  private lastAnswerAt: number | undefined;

  constructor(private readonly opts: IdCardReaderOptions) {
    this.photoDecoder = opts.decoder ? new WltDecoder(opts.decoder) : undefined;
  }

  /** Called with each card read (once per presentation). */
  onCard(listener: CardListener): () => void {
    this.cardListeners.add(listener);
    return () => this.cardListeners.delete(listener);
  }

  /** Called when a card comes onto the reader and when it is taken away (no personal data). */
  onPresence(listener: PresenceListener): () => void {
    this.presenceListeners.add(listener);
    return () => this.presenceListeners.delete(listener);
  }

  /** Called when a poll fails (timeout, bad frame, unexpected status); polling goes on. */
  onPollError(listener: ErrorListener): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  async open(): Promise<DeviceIdentity> {
    await this.close();
    const link = await this.opts.openLink();
    this.link = link;
    this.lostLink = undefined;
    this.lastAnswerAt = undefined;
    this.presentationRead = false;
    this.cardPresent = false;
    this.decoder.reset();
    if (this.photoDecoder) {
      // A decoder that cannot load is the installer's to fix: the reader says why instead of reading cards
      // without the photo the counter's face check needs.
      try {
        await this.photoDecoder.start();
      } catch (err) {
        await this.close();
        throw new Error(`WLT photo decoder: ${message(err)}`);
      }
    }
    this.unsubscribe = [
      link.onData((chunk) => this.onData(chunk)),
      link.onClose((err) => this.onLinkClosed(err)),
    ];
    try {
      await this.samStatus();
    } catch (err) {
      await this.close();
      throw err;
    }
    this.polling = true;
    this.schedulePoll(0, ++this.session);
    return { model: this.opts.model ?? 'Resident ID card reader (SAM)' };
  }

  /**
   * The reader answers. Its polls talk to it every `pollIntervalMs`: a recent answer is the probe, and no
   * extra command crowds the request/reply line; without one, the SAM must answer its status command.
   */
  async probe(): Promise<void> {
    if (this.lostLink) throw this.lostLink;
    if (!this.link?.isOpen) throw new IdCardReaderError('link', 'the reader is not open');
    const fresh = 2 * this.opts.pollIntervalMs + this.opts.commandTimeoutMs;
    if (this.lastAnswerAt !== undefined && Date.now() - this.lastAnswerAt < fresh) return;
    await this.samStatus();
  }

  async selfTest(): Promise<SelfTestResult> {
    await this.samStatus();
    return {
      ok: true,
      summary: `SAM ok; polling for a card every ${this.opts.pollIntervalMs} ms`,
      details: {
        photo: 'wlt',
        jpeg: this.opts.decoder
          ? `decoded by ${this.opts.decoder.library} (abi ${this.opts.decoder.abi}) in a child process`
          : NO_DECODER,
      },
    };
  }

  async close(): Promise<void> {
    this.polling = false;
    clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    this.failPending(new IdCardReaderError('link', 'the reader was closed'));
    for (const u of this.unsubscribe.splice(0)) u();
    const link = this.link;
    this.link = undefined;
    await this.photoDecoder?.close();
    if (link) await link.close();
  }

  private async samStatus(): Promise<void> {
    const reply = await this.exchange('samStatus', this.opts.commandTimeoutMs);
    if (reply.sw3 !== STATUS.ok) throw statusError('SAM status', reply);
  }

  private schedulePoll(delayMs: number, session: number): void {
    if (!this.polling || session !== this.session) return;
    this.pollTimer = setTimeout(() => {
      this.pollOnce()
        .catch((err: unknown) => {
          if (!this.polling || session !== this.session) return;
          const e =
            err instanceof IdCardReaderError
              ? err
              : new IdCardReaderError('link', err instanceof Error ? err.message : String(err));
          for (const l of this.errorListeners) l(e);
        })
        .finally(() => this.schedulePoll(this.opts.pollIntervalMs, session));
    }, delayMs);
  }

  private async pollOnce(): Promise<void> {
    const found = await this.exchange('findCard', this.opts.commandTimeoutMs);
    if (found.sw3 === STATUS.noCard) {
      this.presentationRead = false;
      this.setPresent(false);
      return;
    }
    if (found.sw3 !== STATUS.cardFound) throw statusError('find card', found);
    this.setPresent(true);
    if (this.presentationRead) return;
    const selected = await this.exchange('selectCard', this.opts.commandTimeoutMs);
    if (selected.sw3 !== STATUS.ok) throw statusError('select card', selected);
    const read = await this.exchange('readTextAndPhoto', this.opts.readTimeoutMs);
    if (read.sw3 !== STATUS.ok) throw statusError('read card', read);
    const card = this.parseRead(read.data);
    card.photo = await this.decodePhoto(card.photo);
    this.presentationRead = true;
    for (const l of this.cardListeners) l(card);
  }

  private setPresent(present: boolean): void {
    if (present === this.cardPresent) return;
    this.cardPresent = present;
    for (const l of this.presenceListeners) l(present ? 'present' : 'removed');
  }

  /** Text + photo reply data: text length (2 bytes BE), photo length (2 bytes BE), text, photo. */
  private parseRead(data: Buffer): CardRead {
    if (data.length < 4) throw new IdCardReaderError('short', `read reply holds ${data.length} bytes`);
    const textLength = data.readUInt16BE(0);
    const photoLength = data.readUInt16BE(2);
    const needed = 4 + textLength + photoLength;
    if (data.length < needed || textLength < TEXT_LENGTH) {
      throw new IdCardReaderError(
        'short',
        `read reply holds ${data.length} bytes; its lengths (text ${textLength}, photo ${photoLength}) call for ${needed}`,
      );
    }
    const photo = data.subarray(4 + textLength, needed);
    return {
      ...decodeCardText(data.subarray(4, 4 + textLength)),
      photo: {
        format: 'wlt',
        data: photo.toString('base64'),
        bytes: photo.length,
        jpeg: null,
        jpegBytes: null,
        width: null,
        height: null,
        jpegUnavailable: NO_DECODER,
      },
      readAt: new Date().toISOString(),
    };
  }

  /**
   * The photo with its JPEG, through the vendor's decoder. A decoder that crashes, hangs or refuses costs
   * the photo of this card, not the card: the reason goes in `jpegUnavailable`.
   */
  private async decodePhoto(photo: CardPhoto): Promise<CardPhoto> {
    if (!this.photoDecoder) return photo;
    try {
      const decoded = await this.photoDecoder.decode(Buffer.from(photo.data, 'base64'));
      const sharp = await loadSharp();
      const jpeg = await sharp(decoded.rgb, {
        raw: { width: decoded.width, height: decoded.height, channels: 3 },
      })
        .jpeg({ quality: 92 })
        .toBuffer();
      return {
        ...photo,
        jpeg: jpeg.toString('base64'),
        jpegBytes: jpeg.length,
        width: decoded.width,
        height: decoded.height,
        jpegUnavailable: null,
      };
    } catch (err) {
      for (const l of this.errorListeners) {
        l(new IdCardReaderError('decoder', `photo not decoded: ${message(err)}`));
      }
      return { ...photo, jpegUnavailable: `photo not decoded: ${message(err)}` };
    }
  }

  /** Sends one command and waits for its reply, after any command still in flight. */
  private exchange(command: CommandName, timeoutMs: number): Promise<Reply> {
    const run = (): Promise<Reply> =>
      new Promise<Reply>((resolve, reject) => {
        const link = this.link;
        if (!link?.isOpen) {
          reject(this.lostLink ?? new IdCardReaderError('link', 'the reader is not open'));
          return;
        }
        // Whatever is left of an earlier reply (a frame cut off by a timeout) must not pass for this one.
        this.decoder.reset();
        const timer = setTimeout(() => {
          const partial = this.decoder.pending;
          this.decoder.reset();
          this.settle(
            undefined,
            new IdCardReaderError(
              'timeout',
              `${command}: no reply within ${timeoutMs} ms` +
                (partial > 0 ? ` (${partial} bytes of an incomplete frame arrived)` : ''),
            ),
          );
        }, timeoutMs);
        this.pending = { command, resolve, reject, timer };
        link.write(encodeCommand(COMMANDS[command])).catch((err: unknown) => {
          this.settle(undefined, new IdCardReaderError('link', `${command}: write failed: ${message(err)}`));
        });
      });
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private onData(chunk: Buffer): void {
    for (const item of this.decoder.push(chunk)) {
      // A frame with nobody waiting is a late reply to a command that timed out: dropped.
      if (!this.pending) continue;
      const command = this.pending.command;
      if (item.type === 'error') {
        this.settle(
          undefined,
          new IdCardReaderError(item.kind, `${command}: bad reply frame: ${item.detail}`),
        );
        continue;
      }
      const reply = parseReply(item.body);
      if (reply) this.settle(reply);
      else this.settle(undefined, new IdCardReaderError('short', `${command}: reply without status bytes`));
    }
  }

  private settle(reply: Reply | undefined, err?: IdCardReaderError): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    clearTimeout(p.timer);
    // A command that failed (a timeout above all) means the last answer no longer vouches for the reader.
    this.lastAnswerAt = reply ? Date.now() : undefined;
    if (reply) p.resolve(reply);
    else p.reject(err ?? new IdCardReaderError('link', 'no reply'));
  }

  private failPending(err: IdCardReaderError): void {
    this.settle(undefined, err);
  }

  private onLinkClosed(err?: Error): void {
    if (!err) return;
    this.lostLink = new IdCardReaderError('link', `lost the reader: ${err.message}`);
    this.polling = false;
    clearTimeout(this.pollTimer);
    this.failPending(this.lostLink);
  }
}

function statusError(what: string, reply: Reply): IdCardReaderError {
  return new IdCardReaderError('status', `${what}: ${describeStatus(reply.sw3)}`, reply.sw3);
}

/** Why no JPEG comes with the photo of a reader without a decoder. */
export const NO_DECODER = 'no WLT decoder is configured (idcard.decoder); the photo is returned as WLT only';

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
