// Listens to every ID card reader: keeps each reader's last card in memory (never in the store: it is a
// resident's personal data, needed only while they stand at the counter), publishes `idcard.read` and logs
// the read, with the ID number masked in both unless the device's `idcard.revealIdNumber` is set.
import type { Logger } from 'pino';
import { t } from '../messages/text.js';
import type { IdCardOptions } from '../../config/schema.js';
import { maskIdNumber } from '../../drivers/idcard/card-text.js';
import { IdCardReader, type CardRead } from '../../drivers/idcard/reader.js';
import type { DeviceManager } from '../devices/device-manager.js';
import type { EventLog } from '../events/event-log.js';
import { Problem } from '../problems/problem.js';

interface ReaderEntry {
  options: IdCardOptions;
  last: CardRead | undefined;
  /** The last poll error logged, so a reader failing every second logs once, not every second. */
  /** The kind of the last poll failure logged, until a card is read. */
  lastError: string | undefined;
  /** Forgets `last` when its freshness window ends: personal data is not held until the next card. */
  forget: NodeJS.Timeout | undefined;
  unsubscribe: (() => void)[];
}

export type LastCard = { found: true; card: CardRead } | { found: false; reason: 'not-a-reader' | 'no-card' };

export class IdCardService {
  private readonly readers = new Map<string, ReaderEntry>();

  constructor(
    private readonly devices: DeviceManager,
    private readonly events: EventLog,
    private readonly log: Logger,
  ) {}

  /** Subscribes to the readers; call after the device manager has started. */
  start(): void {
    for (const device of this.devices.ofKind('idcard')) {
      // A reader whose driver could not be built holds a stand-in that never reads a card.
      if (!(device.driver instanceof IdCardReader)) continue;
      const id = device.config.id;
      const entry: ReaderEntry = {
        options: device.config.idcard,
        last: undefined,
        lastError: undefined,
        forget: undefined,
        unsubscribe: [],
      };
      entry.unsubscribe.push(
        device.driver.onCard((card) => this.onCard(id, entry, card)),
        device.driver.onPresence((change) =>
          this.events.publishOrLog(
            change === 'present' ? 'idcard.present' : 'idcard.removed',
            { device: id },
            this.log,
          ),
        ),
        device.driver.onPollError((err) => {
          // Once per kind of failure (a silent reader times out on whichever command it was given), until a
          // card is read again: a reader left unplugged must not write a line every poll.
          if (err.kind === entry.lastError) return;
          entry.lastError = err.kind;
          this.log.warn({ device: id, kind: err.kind, err: err.message }, 'id card reader poll failed');
        }),
      );
      this.readers.set(id, entry);
    }
  }

  stop(): void {
    for (const entry of this.readers.values()) {
      entry.unsubscribe.splice(0).forEach((u) => u());
      clearTimeout(entry.forget);
      entry.last = undefined;
    }
    this.readers.clear();
  }

  isReader(deviceId: string): boolean {
    return this.readers.has(deviceId);
  }

  /** The reader's last card, if it was read within the device's freshness window. */
  lastCard(deviceId: string, now = Date.now()): LastCard {
    const entry = this.readers.get(deviceId);
    if (!entry) return { found: false, reason: 'not-a-reader' };
    const card = entry.last;
    if (!card || now - Date.parse(card.readAt) > entry.options.freshnessMs)
      return { found: false, reason: 'no-card' };
    return { found: true, card };
  }

  /**
   * The decoded photo of the card now on the reader, for a face check against the card; a problem saying
   * what to do when there is none (no fresh card, or its photo could not be decoded).
   */
  cardPhoto(
    deviceId: string,
    field: (string | number)[],
    now = Date.now(),
  ): { jpeg: Buffer; card: CardRead; idNumberMasked: string } {
    const last = this.lastCard(deviceId, now);
    if (!last.found) {
      if (last.reason === 'not-a-reader') {
        throw new Problem('not-found', t`no ID card reader "${deviceId}"`, field);
      }
      const window = Math.round((this.freshnessMs(deviceId) ?? 0) / 1000);
      throw new Problem(
        'no-card',
        t`no card was read on "${deviceId}" in the last ${window} s: place the card on the reader again`,
        field,
      );
    }
    const { photo } = last.card;
    if (photo.jpeg === null) {
      throw new Problem(
        'card-photo-unavailable',
        t`the photo of the card on "${deviceId}" is not available: ${photo.jpegUnavailable ?? 'not decoded'}`,
        field,
      );
    }
    return {
      jpeg: Buffer.from(photo.jpeg, 'base64'),
      card: last.card,
      idNumberMasked: maskIdNumber(last.card.idNumber),
    };
  }

  /** Freshness window of a reader, for messages. */
  freshnessMs(deviceId: string): number | undefined {
    return this.readers.get(deviceId)?.options.freshnessMs;
  }

  private onCard(device: string, entry: ReaderEntry, card: CardRead): void {
    entry.last = card;
    entry.lastError = undefined;
    clearTimeout(entry.forget);
    entry.forget = setTimeout(() => {
      if (entry.last === card) entry.last = undefined;
    }, entry.options.freshnessMs);
    entry.forget.unref();
    const reveal = entry.options.revealIdNumber;
    const idNumber = reveal ? card.idNumber : maskIdNumber(card.idNumber);
    this.log.info(
      { device, idNumber, idNumberValid: card.idNumberCheck.valid },
      card.idNumberCheck.valid ? 'id card read' : 'id card read; its ID number fails the GB 11643 check',
    );
    // The photo stays on the box (biometric data): events say only that there is one.
    this.events.publishOrLog(
      'idcard.read',
      {
        device,
        name: card.name,
        sex: card.sex,
        nation: card.nation,
        birthDate: card.birthDate,
        address: card.address,
        idNumber,
        idNumberMasked: !reveal,
        idNumberCheck: { valid: card.idNumberCheck.valid, reason: card.idNumberCheck.reason },
        authority: card.authority,
        validFrom: card.validFrom,
        validTo: card.validTo,
        nameHasPrivateUseChars: card.nameHasPrivateUseChars,
        photo: { format: card.photo.format, bytes: card.photo.bytes, available: card.photo.jpeg !== null },
        readAt: card.readAt,
      },
      this.log,
    );
  }
}
