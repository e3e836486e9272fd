// A county's own certificate authority, made with openssl in the test, and the NSS database through which
// Chromium on Linux trusts it (the real trust path: the same `certutil` step an installer runs for a
// government CA; no --ignore-certificate-errors).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ServerCertificate {
  key: string;
  cert: string;
}

export interface LocalCa {
  /** The CA certificate (PEM file). */
  caFile: string;
  /** A server certificate for these DNS names, signed by the CA. */
  issue(names: string[]): ServerCertificate;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function makeLocalCa(dir: string, name = 'Test County CA'): LocalCa {
  mkdirSync(dir, { recursive: true });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(
    [
      'req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', `/CN=${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  ); // prettier-ignore
  let serial = 0;
  return {
    caFile: join(dir, 'ca.pem'),
    issue(names) {
      const base = `server-${++serial}`;
      writeFileSync(
        join(dir, `${base}.ext`),
        `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\n` +
          'extendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n',
      );
      openssl(
        ['req', ...ec, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${names[0]}`],
        dir,
      );
      openssl(
        [
          'x509', '-req', '-in', `${base}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', String(serial),
          '-out', `${base}.pem`, '-days', '2', '-extfile', `${base}.ext`,
        ],
        dir,
      ); // prettier-ignore
      return { key: join(dir, `${base}.key`), cert: join(dir, `${base}.pem`) };
    },
  };
}

/**
 * Makes `$home/.pki/nssdb` (the database Chromium reads on Linux) trusting `caFile` for TLS servers. Needs
 * `certutil` (Debian libnss3-tools).
 */
export function trustCaInNss(home: string, caFile: string): void {
  const db = `sql:${join(home, '.pki/nssdb')}`;
  mkdirSync(join(home, '.pki/nssdb'), { recursive: true });
  try {
    execFileSync('certutil', ['-d', db, '-N', '--empty-password'], { stdio: 'pipe' });
    execFileSync('certutil', ['-d', db, '-A', '-n', 'local test CA', '-t', 'C,,', '-i', caFile], {
      stdio: 'pipe',
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('certutil not found: install the Debian package libnss3-tools');
    }
    throw err;
  }
}
