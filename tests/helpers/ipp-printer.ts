// Debian's `ippeveprinter` (cups-ipp-utils) as a real IPP Everywhere photo printer for the tests.
//
// ippeveprinter 2.4 insists on registering itself with DNS-SD (Avahi over the D-Bus system bus) and has no
// switch to turn that off, so it runs with a private dbus-daemon and avahi-daemon (allow-interfaces=lo)
// inside `unshare -n -m`: a network namespace with only its own loopback, so nothing is announced beyond
// it, and a mount namespace so the private avahi's pid file does not meet the host's. The printer is
// reached through a Unix socket in the temp dir (socat inside the namespace, a small TCP bridge here), so
// the daemon under test talks to `ipp://127.0.0.1:PORT/ipp/print` like to any network printer.
// Needs root (unshare) and the tools; a missing one fails the test (no skip).
import { spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait-for.js';

export interface IppPrinter {
  /** `ipp://127.0.0.1:PORT/ipp/print` */
  url: string;
  /** Where ippeveprinter keeps each job's document (`-k`). */
  spoolDir: string;
  /** The kept documents, oldest first. */
  spooledFiles(): string[];
  /** Base URL of the printer's web pages (supplies, media), through the bridge. */
  webUrl: string;
  log(): string;
  stop(): Promise<void>;
}

const BUS_CONF = (
  socket: string,
): string => `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
  </policy>
</busconfig>
`;

const AVAHI_CONF = `[server]
allow-interfaces=lo
use-ipv4=yes
use-ipv6=no
enable-dbus=yes
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
`;

/** Runs inside the namespaces: lo up, private /run/avahi-daemon, bus, avahi, printer, socket bridge. */
const NAMESPACE_SCRIPT = `set -eu
D="$1"; shift
ip link set lo up
mkdir -p /run/avahi-daemon
mount -t tmpfs tmpfs /run/avahi-daemon
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$D/bus.sock"
dbus-daemon --config-file="$D/bus.conf" --nofork >"$D/dbus.log" 2>&1 &
for i in $(seq 100); do [ -S "$D/bus.sock" ] && break; sleep 0.05; done
avahi-daemon -f "$D/avahi.conf" --no-drop-root --no-chroot --no-rlimits >"$D/avahi.log" 2>&1 &
for i in $(seq 100); do grep -q "Server startup complete" "$D/avahi.log" && break; sleep 0.05; done
ippeveprinter -p 8631 -n localhost -d "$D/spool" -k -f image/jpeg,image/png "$@" "boxagent test photo printer" >"$D/printer.log" 2>&1 &
socat UNIX-LISTEN:"$D/ipp.sock",fork TCP:127.0.0.1:8631 &
trap 'kill $(jobs -p) 2>/dev/null' TERM INT
wait
`;

export async function startIppPrinter(extraArgs: string[] = []): Promise<IppPrinter> {
  const dir = mkdtempSync(join(tmpdir(), 'boxagent-ipp-'));
  const spoolDir = join(dir, 'spool');
  mkdirSync(spoolDir);
  writeFileSync(join(dir, 'bus.conf'), BUS_CONF(join(dir, 'bus.sock')));
  writeFileSync(join(dir, 'avahi.conf'), AVAHI_CONF);
  writeFileSync(join(dir, 'ns.sh'), NAMESPACE_SCRIPT);
  const child: ChildProcess = spawn(
    'unshare',
    ['-n', '-m', '--propagation', 'private', 'bash', join(dir, 'ns.sh'), dir, '-v', ...extraArgs],
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  let exited = false;
  child.on('exit', () => (exited = true));
  const log = (): string => {
    const read = (f: string): string => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : '');
    return `${output}\n--- printer\n${read('printer.log')}\n--- avahi\n${read('avahi.log')}\n--- dbus\n${read('dbus.log')}`;
  };

  // The bridge: each TCP connection here is one connection to the socat socket in the namespace.
  const sockets = new Set<Socket>();
  const bridge: Server = createServer((client) => {
    const upstream = createConnection(join(dir, 'ipp.sock'));
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const close = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise<void>((res) => bridge.listen(0, '127.0.0.1', () => res()));
  const address = bridge.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  const stop = async (): Promise<void> => {
    bridge.close();
    for (const s of sockets) s.destroy();
    if (!exited && child.pid) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await waitFor('ippeveprinter namespace to exit', () => exited, 5000).catch(() => {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await waitFor(
      'ippeveprinter to answer',
      async () => {
        if (exited) throw new Error(`the ippeveprinter namespace exited:\n${log()}`);
        return /Accepting connections|printer-uuid|Listening/i.test(log()) && (await answers(port));
      },
      15_000,
    );
  } catch (err) {
    await stop();
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${log()}`);
  }

  return {
    url: `ipp://127.0.0.1:${port}/ipp/print`,
    webUrl: `http://127.0.0.1:${port}`,
    spoolDir,
    spooledFiles: () =>
      readdirSync(spoolDir)
        .filter((f) => !f.startsWith('.'))
        .sort((a, b) => parseInt(a, 10) - parseInt(b, 10))
        .map((f) => join(spoolDir, f)),
    log,
    stop,
  };
}

/** True once an HTTP request through the bridge gets any answer from the printer. */
function answers(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createConnection({ host: '127.0.0.1', port }, () => {
      s.write('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    });
    s.setTimeout(1000, () => {
      s.destroy();
      res(false);
    });
    s.once('data', () => {
      s.destroy();
      res(true);
    });
    s.on('error', () => res(false));
    s.on('close', () => res(false));
  });
}
