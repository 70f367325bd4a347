// A certificate authority made for one test run, with openssl: a CA certificate (what a client is
// told to trust) and server certificates for the test domain signed by it, each valid one day.
// The files live in the directory given; keys are written 0600.
import { execFile } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** openssl makes a P-256 key and signs in well under a second; 15 s means it is stuck. */
const OPENSSL_DEADLINE_MS = 15_000;

export interface TestCa {
  /** PEM file of the CA certificate: give it to the client (NODE_EXTRA_CA_CERTS). */
  caFile: string;
  /** Issues a certificate for `domain` (and 127.0.0.1) signed by this CA; returns its files. */
  issue(domain: string, name: string): Promise<ServerCert>;
}

export interface ServerCert {
  certFile: string;
  keyFile: string;
  /** Certificate then key in one PEM file, the form ejabberd's `certfiles` takes. */
  bundleFile: string;
}

function openssl(args: string[], input?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile('openssl', args, { timeout: OPENSSL_DEADLINE_MS }, (err, _out, stderr) =>
      err ? reject(new Error(`openssl ${args[0]}: ${stderr || err.message}`)) : resolve(),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function bundle(cert: ServerCert): void {
  writeFileSync(cert.bundleFile, readFileSync(cert.certFile, 'utf8') + readFileSync(cert.keyFile, 'utf8'), {
    mode: 0o600,
  });
}

/** Makes a CA in `dir` (files `<label>-ca.crt` / `.key`). */
export async function makeTestCa(dir: string, label = 'test'): Promise<TestCa> {
  const caFile = join(dir, `${label}-ca.crt`);
  const caKey = join(dir, `${label}-ca.key`);
  await openssl([
    'req',
    '-x509',
    ...EC,
    '-keyout',
    caKey,
    '-out',
    caFile,
    '-days',
    '1',
    '-subj',
    `/CN=git-autosync ${label} CA`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  chmodSync(caKey, 0o600);
  return {
    caFile,
    issue: async (domain, name) => {
      const cert: ServerCert = {
        certFile: join(dir, `${name}.crt`),
        keyFile: join(dir, `${name}.key`),
        bundleFile: join(dir, `${name}.pem`),
      };
      const csr = join(dir, `${name}.csr`);
      await openssl(['req', '-new', ...EC, '-keyout', cert.keyFile, '-out', csr, '-subj', `/CN=${domain}`]);
      chmodSync(cert.keyFile, 0o600);
      const ext = join(dir, `${name}.ext`);
      // The client checks the name it dialled: the domain for STARTTLS, 127.0.0.1 for direct TLS
      // to xmpps://127.0.0.1:PORT.
      writeFileSync(
        ext,
        `subjectAltName=DNS:${domain},DNS:conference.${domain},IP:127.0.0.1\n` +
          'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n',
      );
      await openssl([
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        caFile,
        '-CAkey',
        caKey,
        '-CAcreateserial',
        '-out',
        cert.certFile,
        '-days',
        '1',
        '-extfile',
        ext,
      ]);
      bundle(cert);
      return cert;
    },
  };
}

/** A self-signed certificate for `domain` (no CA vouches for it): what a client must refuse. */
export async function selfSigned(dir: string, domain: string, name: string): Promise<ServerCert> {
  const cert: ServerCert = {
    certFile: join(dir, `${name}.crt`),
    keyFile: join(dir, `${name}.key`),
    bundleFile: join(dir, `${name}.pem`),
  };
  await openssl([
    'req',
    '-x509',
    ...EC,
    '-keyout',
    cert.keyFile,
    '-out',
    cert.certFile,
    '-days',
    '1',
    '-subj',
    `/CN=${domain}`,
    '-addext',
    `subjectAltName=DNS:${domain},IP:127.0.0.1`,
  ]);
  chmodSync(cert.keyFile, 0o600);
  bundle(cert);
  return cert;
}
