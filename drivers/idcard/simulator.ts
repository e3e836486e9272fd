// A resident ID card reader simulated on the far end of a ByteLink (the peer of a socat pty pair in tests, an
// in-memory link for `transport: {type: simulated}`). It answers SAM frames like a reader, holds a scripted
// card (or none), and injects faults: a bad checksum, silence (the driver times out), a short frame, or a
// failure status.
import type { ByteLink } from '../transport/byte-link.js';
import { encodeCardText, type CardTextInput } from './card-text.js';
import {
  COMMANDS,
  FrameDecoder,
  STATUS,
  encodeFrame,
  encodeReply,
  parseCommand,
  type CommandName,
} from './frame-codec.js';

export interface ScriptedCard {
  text: CardTextInput;
  /** The WLT photo; a deterministic 1024-byte stand-in when absent. */
  photo?: Buffer;
}

/** Made-up residents (numbers built with valid or deliberately wrong GB 11643 check characters). */
export const SAMPLE_CARDS = {
  zhang: {
    text: {
      name: '张三',
      sex: '1',
      nation: '01',
      birthDate: '19850315',
      address: '湖南省长沙市芙蓉区八一路1号',
      idNumber: '430102198503151236',
      authority: '长沙市公安局芙蓉分局',
      validFrom: '20150101',
      validTo: '20350101',
    },
  },
  /** 䶮 is CJK Extension A: in the BMP, so UCS-2 holds it as itself. */
  rareName: {
    text: {
      name: '刘䶮',
      sex: '1',
      nation: '01',
      birthDate: '19760808',
      address: '贵州省黔东南苗族侗族自治州凯里市',
      idNumber: '522627197608082816',
      authority: '凯里市公安局',
      validFrom: '20100101',
      validTo: '20300101',
    },
  },
  /** A character outside the BMP, written by the issuing system as a Private Use Area code point. */
  privateUseName: {
    text: {
      name: '王\uE0A5明',
      sex: '1',
      nation: '01',
      birthDate: '19930520',
      address: '新疆乌鲁木齐市天山区解放南路9号',
      idNumber: '650102199305200012',
      authority: '乌鲁木齐市公安局天山区分局',
      validFrom: '20130520',
      validTo: '20330520',
    },
  },
  /** Female, Miao, a card that does not expire. */
  longTerm: {
    text: {
      name: '李秀英',
      sex: '2',
      nation: '06',
      birthDate: '19900101',
      address: '广东省深圳市福田区福华路2号',
      idNumber: '440304199001014565',
      authority: '深圳市公安局福田分局',
      validFrom: '20200101',
      validTo: '长期',
    },
  },
  /** The last character does not match the GB 11643 check of the first 17 (it should be 6). */
  badIdChecksum: {
    text: {
      name: '赵四',
      sex: '1',
      nation: '01',
      birthDate: '19850315',
      address: '湖南省长沙市芙蓉区八一路3号',
      idNumber: '430102198503151237',
      authority: '长沙市公安局芙蓉分局',
      validFrom: '20150101',
      validTo: '20350101',
    },
  },
} as const satisfies Record<string, ScriptedCard>;

export type ReaderFault =
  /** The reply's checksum byte is wrong. */
  | 'bad-checksum'
  /** No reply at all: the driver times out. */
  | 'silent'
  /** A well-formed frame with too little inside (a read reply cut short, a reply without status bytes). */
  | 'short-frame'
  /** Status 0x81 select failed / 0x41 read failed, for select and read. */
  | 'failure-status';

interface InjectedFault {
  fault: ReaderFault;
  command: CommandName | 'any';
  remaining: number;
}

const PHOTO_LENGTH = 1024;

export class IdCardReaderSimulator {
  private readonly decoder = new FrameDecoder();
  private card: ScriptedCard | undefined;
  private faults: InjectedFault[] = [];
  private unsubscribe: (() => void) | undefined;
  /** Every command received, in order (tests count reads with it). */
  readonly received: CommandName[] = [];

  constructor(private readonly link: ByteLink) {}

  start(): void {
    this.unsubscribe ??= this.link.onData((chunk) => this.onData(chunk));
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.link.close();
  }

  /** Puts a card on the reader (replacing any card there). */
  present(card: ScriptedCard): void {
    this.card = card;
  }

  /** Takes the card away. */
  remove(): void {
    this.card = undefined;
  }

  /** Makes the next `times` replies to `command` (or to any command) faulty. */
  inject(fault: ReaderFault, opts: { command?: CommandName | 'any'; times?: number } = {}): void {
    this.faults.push({ fault, command: opts.command ?? 'any', remaining: opts.times ?? Infinity });
  }

  clearFaults(): void {
    this.faults = [];
  }

  count(command: CommandName): number {
    return this.received.filter((c) => c === command).length;
  }

  private onData(chunk: Buffer): void {
    for (const item of this.decoder.push(chunk)) {
      if (item.type === 'error') {
        this.send(encodeReply({ sw1: 0, sw2: 0, sw3: STATUS.checksumError, data: Buffer.alloc(0) }));
        continue;
      }
      const cmd = parseCommand(item.body);
      const name = cmd && commandName(cmd.command, cmd.parameter);
      if (!name) {
        this.send(encodeReply({ sw1: 0, sw2: 0, sw3: STATUS.unknownCommand, data: Buffer.alloc(0) }));
        continue;
      }
      this.received.push(name);
      this.answer(name);
    }
  }

  private answer(command: CommandName): void {
    const fault = this.takeFault(command);
    if (fault === 'silent') return;
    if (fault === 'short-frame') {
      const reply = this.reply(command);
      // A read reply cut to 100 bytes of data; any other reply cut to two status bytes. Checksums are right.
      this.send(encodeFrame(command === 'readTextAndPhoto' ? reply.subarray(0, 103) : reply.subarray(0, 2)));
      return;
    }
    let body = this.reply(command);
    if (fault === 'failure-status' && (command === 'selectCard' || command === 'readTextAndPhoto')) {
      body = status(command === 'selectCard' ? STATUS.selectFailed : STATUS.readFailed);
    }
    const frame = encodeFrame(body);
    if (fault === 'bad-checksum')
      frame.writeUInt8(frame.readUInt8(frame.length - 1) ^ 0xff, frame.length - 1);
    this.send(frame);
  }

  /** The body of the reply a healthy reader gives. */
  private reply(command: CommandName): Buffer {
    switch (command) {
      case 'samStatus':
        return status(STATUS.ok);
      case 'findCard':
        return this.card ? status(STATUS.cardFound, Buffer.alloc(4)) : status(STATUS.noCard);
      case 'selectCard':
        return this.card ? status(STATUS.ok, Buffer.alloc(8)) : status(STATUS.selectFailed);
      case 'readTextAndPhoto': {
        if (!this.card) return status(STATUS.readFailed);
        const text = encodeCardText(this.card.text);
        const photo = this.card.photo ?? standInPhoto(this.card.text.idNumber);
        const lengths = Buffer.alloc(4);
        lengths.writeUInt16BE(text.length, 0);
        lengths.writeUInt16BE(photo.length, 2);
        return status(STATUS.ok, Buffer.concat([lengths, text, photo]));
      }
    }
  }

  private takeFault(command: CommandName): ReaderFault | undefined {
    const f = this.faults.find((x) => x.remaining > 0 && (x.command === 'any' || x.command === command));
    if (!f) return undefined;
    f.remaining--;
    return f.fault;
  }

  private send(frame: Buffer): void {
    // The far end may be gone (a test tearing down); the reader sees that as silence.
    this.link.write(frame).catch(() => undefined);
  }
}

function status(sw3: number, data: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([Buffer.from([0, 0, sw3]), data]);
}

function commandName(command: number, parameter: number): CommandName | undefined {
  return (Object.keys(COMMANDS) as CommandName[]).find(
    (k) => COMMANDS[k].command === command && COMMANDS[k].parameter === parameter,
  );
}

/** Not a real WLT image: a recognisable pattern of the right size, different per card. */
function standInPhoto(seed: string): Buffer {
  const photo = Buffer.alloc(PHOTO_LENGTH);
  let x = 0;
  for (const ch of seed) x = (x * 31 + ch.charCodeAt(0)) & 0xff;
  for (let i = 0; i < PHOTO_LENGTH; i++) photo[i] = (x + i * 7) & 0xff;
  return photo;
}
