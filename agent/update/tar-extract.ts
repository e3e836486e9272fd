// Unpacks a release tarball (gzip'd ustar/pax/GNU tar) into a fresh directory, refusing anything that could
// write outside it: absolute names, `..` segments, members under a symlink, symlinks whose target leaves the
// directory, hard links and device nodes. Written here rather than run through tar(1) so every refusal is
// decided before a byte lands and comes back as a clear reason; the stream is read once, never held whole.
import { closeSync, mkdirSync, openSync, rmSync, symlinkSync, writeSync, lstatSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { dirname, join, normalize, relative, resolve, sep, isAbsolute } from 'node:path';
import { createGunzip } from 'node:zlib';

/** The archive is not one we unpack: the message says which member and why. */
export class UnsafeArchiveError extends Error {
  override name = 'UnsafeArchiveError';
}

export interface ExtractResult {
  files: number;
  bytes: number;
}

const BLOCK = 512;

interface Header {
  name: string;
  mode: number;
  size: number;
  type: string;
  linkname: string;
}

/** Extracts `file` into `dest` (created; must not exist). Throws UnsafeArchiveError on a refused archive. */
export async function extractTarGz(file: string, dest: string, maxBytes: number): Promise<ExtractResult> {
  mkdirSync(dest, { recursive: false, mode: 0o755 });
  const root = resolve(dest);
  const symlinks = new Set<string>();
  let files = 0;
  let bytes = 0;
  // Names and link targets from pax ('x') and GNU ('L'/'K') records, for the next member only.
  let next: { path?: string; linkpath?: string; size?: number } = {};
  let pending: Buffer = Buffer.alloc(0);
  let ended = false;
  /** The member whose data is being read. */
  let data: { remaining: number; pad: number; fd?: number; collect?: Buffer[]; kind: string } | undefined;

  const begin = (h: Header): void => {
    if (h.type === 'x' || h.type === 'g' || h.type === 'L' || h.type === 'K') {
      // Metadata records are small; a huge one is a crafted archive.
      if (h.size > 1 << 20) throw new UnsafeArchiveError(`a ${h.size}-byte metadata record`);
      data = { remaining: h.size, pad: padOf(h.size), collect: [], kind: h.type };
      return;
    }
    const name = next.path ?? h.name;
    const linkname = next.linkpath ?? h.linkname;
    const size = next.size ?? h.size;
    next = {};
    const rel = safeName(name);
    if (rel === undefined) {
      // The archive's root ("./"): nothing to make.
      data = { remaining: size, pad: padOf(size), kind: 'skip' };
      return;
    }
    for (const link of symlinks) {
      if (rel === link || rel.startsWith(link + sep)) {
        throw new UnsafeArchiveError(`${name}: is written through the symlink ${link}`);
      }
    }
    const target = join(root, rel);
    if (h.type === '5') {
      mkdirSync(target, { recursive: true, mode: 0o755 });
      data = { remaining: 0, pad: 0, kind: 'dir' };
    } else if (h.type === '0' || h.type === '\0' || h.type === '7') {
      bytes += size;
      if (bytes > maxBytes) throw new UnsafeArchiveError(`unpacks to more than ${maxBytes} bytes`);
      mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
      rmSync(target, { force: true }); // a repeated member replaces the earlier one, never follows it
      // Owner read/write always; execute bits kept; no set-id bits, nothing for others to write.
      const fd = openSync(target, 'wx', (h.mode & 0o755) | 0o600);
      files += 1;
      data = { remaining: size, pad: padOf(size), fd, kind: 'file' };
    } else if (h.type === '2') {
      if (isAbsolute(linkname)) throw new UnsafeArchiveError(`${name}: symlink to an absolute path`);
      const to = resolve(dirname(target), linkname);
      const inside = relative(root, to);
      if (inside.startsWith('..') || isAbsolute(inside)) {
        throw new UnsafeArchiveError(`${name}: symlink pointing out of the release (${linkname})`);
      }
      mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
      rmSync(target, { force: true });
      symlinkSync(linkname, target);
      symlinks.add(rel);
      data = { remaining: size, pad: padOf(size), kind: 'skip' };
    } else if (h.type === '1') {
      throw new UnsafeArchiveError(`${name}: hard links are not unpacked`);
    } else {
      throw new UnsafeArchiveError(`${name}: member type "${h.type}" (devices, fifos) is not unpacked`);
    }
  };

  const finish = (): void => {
    const d = data;
    if (!d) return;
    if (d.fd !== undefined) closeSync(d.fd);
    if (d.collect) {
      const body = Buffer.concat(d.collect);
      if (d.kind === 'x') next = { ...next, ...parsePax(body) };
      else if (d.kind === 'L') next.path = cString(body);
      else if (d.kind === 'K') next.linkpath = cString(body);
    }
  };

  const input = createReadStream(file).pipe(createGunzip());
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      if (ended) continue;
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let at = 0;
      for (;;) {
        if (data) {
          const take = Math.min(data.remaining, pending.length - at);
          if (take > 0) {
            const piece = pending.subarray(at, at + take);
            if (data.fd !== undefined) for (let w = 0; w < piece.length;) w += writeSync(data.fd, piece, w);
            else data.collect?.push(Buffer.from(piece));
            data.remaining -= take;
            at += take;
          }
          if (data.remaining > 0) break;
          const skip = Math.min(data.pad, pending.length - at);
          data.pad -= skip;
          at += skip;
          if (data.pad > 0) break;
          finish();
          data = undefined;
        }
        if (pending.length - at < BLOCK) break;
        const block = pending.subarray(at, at + BLOCK);
        at += BLOCK;
        if (block.every((b) => b === 0)) {
          ended = true; // end-of-archive marker
          break;
        }
        begin(parseHeader(block));
      }
      pending = pending.subarray(at);
    }
  } catch (err) {
    if (data?.fd !== undefined) closeSync(data.fd);
    if (err instanceof UnsafeArchiveError) throw err;
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'Z_DATA_ERROR' || e.code === 'Z_BUF_ERROR')
      throw new UnsafeArchiveError(`not a gzip file (${e.message})`);
    throw err;
  }
  if (!ended || data) throw new UnsafeArchiveError('the archive is cut short');
  // The tree must be what the names said: a directory, no symlink at its top.
  if (lstatSync(root).isSymbolicLink()) throw new UnsafeArchiveError('the release root is a symlink');
  return { files, bytes };
}

const padOf = (size: number): number => (BLOCK - (size % BLOCK)) % BLOCK;

/** The member's path relative to the release, undefined for the root itself; refuses escaping names. */
function safeName(name: string): string | undefined {
  if (name.includes('\0')) throw new UnsafeArchiveError(`a member name with a NUL byte`);
  if (isAbsolute(name)) throw new UnsafeArchiveError(`${name}: absolute path`);
  if (name.split('/').includes('..')) throw new UnsafeArchiveError(`${name}: ".." in the path`);
  const n = normalize(name).replace(/\/+$/, '');
  if (n === '.' || n === '') return undefined;
  return n;
}

function cString(b: Buffer): string {
  const end = b.indexOf(0);
  return b.subarray(0, end < 0 ? b.length : end).toString('utf8');
}

/** An octal field, or GNU's base-256 form (high bit set) for sizes past 8 GiB. */
function numberField(b: Buffer): number {
  if ((b[0] ?? 0) & 0x80) {
    let v = 0;
    for (let i = 1; i < b.length; i++) v = v * 256 + (b[i] ?? 0);
    return v;
  }
  const s = cString(b).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new UnsafeArchiveError(`a header field "${s}" is not a number`);
  return parseInt(s, 8);
}

function parseHeader(block: Buffer): Header {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
  if (sum !== numberField(block.subarray(148, 156)))
    throw new UnsafeArchiveError('a tar header fails its checksum (not a tar archive, or damaged)');
  const magic = block.subarray(257, 263).toString('latin1');
  const name = cString(block.subarray(0, 100));
  const prefix = magic.startsWith('ustar') ? cString(block.subarray(345, 500)) : '';
  return {
    name: prefix ? `${prefix}/${name}` : name,
    mode: numberField(block.subarray(100, 108)),
    size: numberField(block.subarray(124, 136)),
    type: String.fromCharCode(block[156] ?? 0),
    linkname: cString(block.subarray(157, 257)),
  };
}

/** pax extended header records: "<length> <key>=<value>\n"; path, linkpath and size are the ones we use. */
function parsePax(body: Buffer): { path?: string; linkpath?: string; size?: number } {
  const out: { path?: string; linkpath?: string; size?: number } = {};
  let at = 0;
  while (at < body.length) {
    const space = body.indexOf(0x20, at);
    if (space < 0) break;
    const len = Number(body.subarray(at, space).toString('latin1'));
    if (!Number.isInteger(len) || len <= 0 || at + len > body.length)
      throw new UnsafeArchiveError('a damaged pax header');
    const record = body.subarray(space + 1, at + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    const key = record.slice(0, eq);
    const value = record.slice(eq + 1);
    if (key === 'path') out.path = value;
    else if (key === 'linkpath') out.linkpath = value;
    else if (key === 'size') out.size = Number(value);
    at += len;
  }
  return out;
}
