// Minimal typing for the parts of `unix-dgram` (a CommonJS native addon without bundled types) that
// sd-notify.ts uses. Errors carry a negative errno number in `code` (e.g. -111 for ECONNREFUSED), not a
// string like Node's own errors.
declare module 'unix-dgram' {
  import type { EventEmitter } from 'node:events';

  export interface UnixDgramError extends Error {
    /** Negative errno, or 1 for "congestion" (EAGAIN on a connected socket). */
    code: number;
    errno: number;
    syscall?: string;
  }

  export interface UnixDgramSocket extends EventEmitter {
    /**
     * sendto(2) on an unconnected socket. `path` is copied with strncpy into sun_path (107 bytes max), so a
     * leading NUL (Linux abstract namespace) cannot be expressed. With a callback, errors go to it
     * synchronously instead of the 'error' event.
     */
    send(
      buf: Buffer,
      offset: number,
      length: number,
      path: string,
      callback?: (err?: UnixDgramError) => void,
    ): void;
    /** Throws on close(2) failure. An open socket keeps the event loop alive until closed. */
    close(): void;
  }

  export function createSocket(type: 'unix_dgram', listener?: (msg: Buffer) => void): UnixDgramSocket;
}
