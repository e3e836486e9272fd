// Which machine a shared library was built for, read from its ELF header. dlopen's own complaint about a
// library of another architecture is often "No such file or directory", which sends installers looking
// for a file that is there; this names the architecture instead.
import { closeSync, openSync, readSync } from 'node:fs';

const MACHINES: Record<number, string> = {
  0x03: 'ia32',
  0x08: 'mips',
  0x28: 'arm',
  0x3e: 'x64',
  0xb7: 'arm64',
  0xf3: 'riscv',
  0x102: 'loong64',
};

/** ELF e_machine of each Node process.arch. */
const NODE_ARCH_MACHINE: Record<string, number> = {
  ia32: 0x03,
  mips: 0x08,
  mipsel: 0x08,
  arm: 0x28,
  x64: 0x3e,
  arm64: 0xb7,
  riscv64: 0xf3,
  loong64: 0x102,
};

/** Why the library cannot be loaded by this process (not ELF, other architecture), or null if it may. */
export function elfMismatch(path: string, arch: string = process.arch): string | null {
  const head = Buffer.alloc(20);
  const fd = openSync(path, 'r');
  let got: number;
  try {
    got = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (got < head.length || head.readUInt32BE(0) !== 0x7f454c46) {
    return `${path} is not a shared library (no ELF header)`;
  }
  const bits = head[4] === 1 ? 32 : 64;
  const machine = head[5] === 2 ? head.readUInt16BE(18) : head.readUInt16LE(18);
  const want = NODE_ARCH_MACHINE[arch];
  const is64 = ['x64', 'arm64', 'riscv64', 'loong64'].includes(arch);
  if ((want !== undefined && machine !== want) || bits !== (is64 ? 64 : 32)) {
    const name = MACHINES[machine] ?? `machine 0x${machine.toString(16)}`;
    return `${path} is built for ${name} (${bits}-bit); this box runs ${arch}: install the vendor's ${arch} build`;
  }
  return null;
}
