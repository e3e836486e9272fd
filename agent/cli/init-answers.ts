// The checks `config init` puts each answer through as it is given, so a typo is asked again at once instead
// of failing the whole config at the end. Each returns the problem in words an installer understands, or
// undefined when the answer is good.
import { existsSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { isAbsolute } from 'node:path';

export type AnswerCheck = (answer: string) => string | undefined | Promise<string | undefined>;

/** The same rule as the schema's Identifier, said in words. */
export function checkBoxId(id: string): string | undefined {
  if (/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(id)) return undefined;
  return (
    'a box id is 1 to 64 characters: Latin letters, digits, "-" and "_", starting with a letter or digit ' +
    '(no spaces, dots or Chinese characters; put the place name in the site)'
  );
}

/** A hostname turned into a usable default box id (`box-12.local` → `box-12`), or '' when it cannot be. */
export function boxIdFromHostname(name: string): string {
  const first = name.split('.')[0] ?? '';
  return checkBoxId(first) === undefined ? first : '';
}

export function checkSite(site: string): string | undefined {
  return site.length <= 200 ? undefined : 'the site name is at most 200 characters';
}

/** Resolves with the listen error code, or null when `port` can be bound on `host`. */
function bindError(host: string, port: number): Promise<string | null> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
    server.listen({ host, port, exclusive: true }, () => server.close(() => done(null)));
  });
}

/** Whether a boxagent daemon answers on the port (re-running init on a box that runs). */
async function boxagentAnswers(host: string, port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://${host}:${port}/openapi.json`, { signal: AbortSignal.timeout(2000) });
    const doc = (await res.json()) as { info?: { title?: string } };
    return doc.info?.title === 'boxagent local API';
  } catch {
    return false;
  }
}

/**
 * A port number 1024–65535 and, with `mustBeFree`, one nothing else listens on here (boxagent itself may:
 * then it is its own port, as when init is run again on a working box).
 */
export function portCheck(host: string, mustBeFree: boolean): AnswerCheck {
  return async (answer) => {
    if (!/^\d+$/.test(answer)) return 'the port is a number from 1024 to 65535';
    const port = Number(answer);
    if (port < 1024 || port > 65535)
      return 'the port is a number from 1024 to 65535 (below 1024 needs root; the service does not run as root)';
    if (!mustBeFree) return undefined;
    const err = await bindError(host, port);
    if (err === null || (await boxagentAnswers(host, port))) return undefined;
    if (err === 'EADDRINUSE')
      return `port ${port} is already used by another program on this box; choose another`;
    return `port ${port} cannot be used (${err}); choose another`;
  };
}

export function checkStorageDir(dir: string): string | undefined {
  if (!isAbsolute(dir)) return 'the state directory is an absolute path, e.g. /var/lib/boxagent';
  if (existsSync(dir) && !statSync(dir).isDirectory()) return `${dir} exists and is not a directory`;
  return undefined;
}

/** Origins as a browser sends them: scheme, host and port, nothing after. */
export function splitOrigins(answer: string): string[] {
  return answer
    .split(',')
    .map((s) => s.trim().replace(/\/$/, ''))
    .filter(Boolean);
}

export function checkOrigins(answer: string): string | undefined {
  for (const origin of splitOrigins(answer)) {
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== origin) {
      return (
        `"${origin}" is not an origin: give scheme, host and port only, separated by commas, ` +
        'e.g. https://zwfw.example.gov.cn,http://10.0.0.5:8080'
      );
    }
  }
  return undefined;
}

const BROKER_SCHEMES = ['mqtt:', 'mqtts:', 'ws:', 'wss:'];

export function checkBrokerUrl(answer: string): string | undefined {
  if (answer === '') return undefined;
  let url: URL | undefined;
  try {
    url = new URL(answer);
  } catch {
    url = undefined;
  }
  if (!url || !BROKER_SCHEMES.includes(url.protocol) || url.hostname === '') {
    return 'the broker is a URL like mqtts://fleet.example.gov.cn:8883 (mqtt://, mqtts://, ws:// or wss://), or empty for none';
  }
  return undefined;
}

/** Whether the broker link is TLS: only then a CA file means anything. */
export const isTlsBroker = (url: string): boolean => /^(mqtts|wss):\/\//.test(url);

export function checkCaFile(file: string): string | undefined {
  if (file === '') return undefined;
  if (!existsSync(file)) return `there is no file ${file}`;
  if (!statSync(file).isFile()) return `${file} is not a file`;
  return undefined;
}

/**
 * A device answer as an installer types it → the wizard's transport spec: a camera's `/dev/video0`,
 * `rtsp://…` or `http://…`; `/dev/usb/lp0` a USB printer; `/dev/hidraw0` HID; other `/dev/` paths serial.
 * Anything else is taken as a spec already (`serial:/dev/ttyUSB0@9600`, `tcp:HOST:PORT`, `ipp://…`).
 */
export function specAsTyped(kind: string, answer: string): string {
  if (kind === 'camera' && (/^(rtsps?|https?):\/\//.test(answer) || answer.startsWith('/dev/video')))
    return `video:${answer}`;
  if (!answer.startsWith('/dev/')) return answer;
  if (answer.startsWith('/dev/usb/lp')) return `usblp:${answer}`;
  if (answer.startsWith('/dev/hidraw')) return `hid:${answer}`;
  if (answer.startsWith('/dev/video')) return `video:${answer}`;
  return `serial:${answer}`;
}
