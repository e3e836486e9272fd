// The child process that calls the reader vendor's WLT decoder library (through koffi). Vendor decoders
// crash and hang; here that kills this process, not the daemon. Two modes:
//   node wlt-decoder-host.js '<spec json>'           IPC: says ready (or why it cannot start), then decodes
//   node wlt-decoder-host.js --check '<spec json>'   loads the library, resolves the symbol, prints one
//                                                    JSON line and exits (for `boxagent doctor`)
import { existsSync } from 'node:fs';
import koffi from 'koffi';
import { elfMismatch } from './elf-arch.js';
import { BMP_BYTES } from './wlt-photo.js';

export interface DecoderHostSpec {
  library: string;
  abi: 'unpack' | 'wlt2bmpBuffer';
  symbol: string;
  saveBmp: number;
}

export type HostRequest = { type: 'decode'; id: number; wlt: Uint8Array };
export type HostReply =
  | { type: 'ready' }
  | { type: 'start-failed'; reason: string }
  | { type: 'decoded'; id: number; status: number; out: Uint8Array }
  | { type: 'failed'; id: number; message: string };

/** Room past a whole BMP, so a library writing a little more than it should does not scribble on the heap. */
const OUT_SLACK = 4096;

type Decode = (wlt: Buffer) => { status: number; out: Buffer };

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Loads the library and binds the ABI's function; throws with a reason an installer can act on. */
function bind(spec: DecoderHostSpec): Decode {
  if (!existsSync(spec.library)) throw new Error(`${spec.library} does not exist`);
  const mismatch = elfMismatch(spec.library);
  if (mismatch) throw new Error(mismatch);
  let lib: ReturnType<typeof koffi.load>;
  try {
    lib = koffi.load(spec.library);
  } catch (err) {
    // dlopen's own words name the cause: "wrong ELF class: ELFCLASS32", a missing dependency, …
    throw new Error(`cannot load ${spec.library}: ${message(err)}`);
  }
  let fn: (wlt: Buffer, out: Buffer, third: number) => unknown;
  try {
    fn = lib.func(spec.symbol, 'int', ['uint8_t *', 'uint8_t *', 'int']) as typeof fn;
  } catch (err) {
    throw new Error(
      `${spec.library} has no function "${spec.symbol}" (abi ${spec.abi}): ${message(err)}; ` +
        'set idcard.decoder.symbol if the vendor exports it under another name',
    );
  }
  return (wlt) => {
    const out = Buffer.alloc(BMP_BYTES + OUT_SLACK);
    const input = Buffer.alloc(Math.max(wlt.length, 1024));
    wlt.copy(input);
    const third = spec.abi === 'unpack' ? spec.saveBmp : BMP_BYTES;
    const status = Number(fn(input, out, third));
    return { status, out: out.subarray(0, BMP_BYTES) };
  };
}

function serve(spec: DecoderHostSpec): void {
  const send = (reply: HostReply): void => {
    process.send?.(reply);
  };
  let decode: Decode;
  try {
    decode = bind(spec);
  } catch (err) {
    send({ type: 'start-failed', reason: message(err) });
    process.disconnect?.();
    return;
  }
  process.on('message', (msg: HostRequest) => {
    if (msg.type !== 'decode') return;
    try {
      const { status, out } = decode(Buffer.from(msg.wlt));
      send({ type: 'decoded', id: msg.id, status, out });
    } catch (err) {
      send({ type: 'failed', id: msg.id, message: message(err) });
    }
  });
  // The daemon going away closes the channel: nothing left to decode for.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready' });
}

function check(spec: DecoderHostSpec): void {
  try {
    bind(spec);
    process.stdout.write(JSON.stringify({ ok: true }) + '\n');
  } catch (err) {
    process.stdout.write(JSON.stringify({ ok: false, reason: message(err) }) + '\n');
  }
}

const [first, second] = process.argv.slice(2);
if (first === '--check' && second) check(JSON.parse(second) as DecoderHostSpec);
else if (first) serve(JSON.parse(first) as DecoderHostSpec);
