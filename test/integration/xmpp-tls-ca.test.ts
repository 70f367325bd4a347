// TLS against a CA made for the test, on Prosody and on ejabberd: a server certificate signed by
// that CA is accepted when the client is told the CA (NODE_EXTRA_CA_CERTS, as for the agent), over
// STARTTLS and direct TLS; the same server without the CA, and a server whose certificate another
// CA signed, are refused with one line saying why, before any password is sent. The same for a
// real agent, whose status carries that line.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProsody, type ProsodyServer } from '../helpers/prosody.js';
import { ejabberdMissing, startEjabberd } from '../helpers/ejabberd.js';
import { makeTestCa, type ServerCert } from '../helpers/test-ca.js';
import { git } from '../helpers/repos.js';
import { cloud, using } from '../helpers/topology.js';
import { waitFor } from '../helpers/wait.js';

const PASSWORD = 'tls-test-password';
const PROBE = fileURLToPath(new URL('../helpers/tls-probe.js', import.meta.url));
/** The probe gives up after 20 s itself; this only catches a probe that hangs. */
const PROBE_DEADLINE_MS = 40_000;

/** A login in the server's log: Prosody "Authenticated as ...", ejabberd "Accepted c2s PLAIN authentication ...". */
const LOGIN = /Authenticated as|Accepted c2s \S+ authentication/;

interface ProbeResult {
  state: string;
  error: string | null;
}

/** Logs in from a fresh process, trusting `caFile` in addition to the system CAs (or not). */
function probe(server: ProsodyServer, service: string, caFile: string | null): Promise<ProbeResult> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PROBE_SERVICE: service,
    PROBE_JID: `alice@${server.domain}`,
    PROBE_PASSWORD: PASSWORD,
  };
  delete env.NODE_EXTRA_CA_CERTS;
  if (caFile) env.NODE_EXTRA_CA_CERTS = caFile;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [PROBE], { env, timeout: PROBE_DEADLINE_MS }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`tls probe failed: ${stderr || err.message}`));
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as ProbeResult);
      } catch {
        reject(new Error(`tls probe printed no status: ${stdout} ${stderr}`));
      }
    });
  });
}

const SERVERS = [
  { name: 'prosody', start: (cert: ServerCert) => startProsody({ tls: cert }), skip: false as const },
  {
    name: 'ejabberd',
    start: (cert: ServerCert) => startEjabberd({ tls: cert }),
    skip: ejabberdMissing() ?? false,
  },
];

for (const kind of SERVERS) {
  describe(`${kind.name}: TLS verified against a test CA`, { skip: kind.skip }, () => {
    let dir: string;
    let caFile: string;
    let good: ProsodyServer;
    let foreign: ProsodyServer;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'gas-tls-ca-'));
      const ca = await makeTestCa(dir, 'test');
      const other = await makeTestCa(dir, 'other');
      caFile = ca.caFile;
      good = await kind.start(await ca.issue('localhost', 'good'));
      foreign = await kind.start(await other.issue('localhost', 'foreign'));
      for (const s of [good, foreign]) await s.register('alice', PASSWORD);
    });
    after(async () => {
      await Promise.all([good?.stop(), foreign?.stop()]);
      rmSync(dir, { recursive: true, force: true });
    });

    test('a certificate signed by the CA the client trusts: online over STARTTLS and direct TLS', async (t) => {
      for (const service of [good.service, good.tlsService!]) {
        const r = await probe(good, service, caFile);
        assert.deepEqual({ state: r.state, error: r.error }, { state: 'online', error: null }, service);
        t.diagnostic(`${service}: online`);
      }
      // The log shows logins, so the check that the foreign server saw none can fail.
      assert.match(good.logText(), LOGIN);
    });

    test('the same server, the CA not given to the client: refused, the reason in one line', async (t) => {
      for (const service of [good.service, good.tlsService!]) {
        const r = await probe(good, service, null);
        assert.notEqual(r.state, 'online');
        assert.match(r.error ?? '', /^TLS certificate of .* not accepted: UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
        assert.doesNotMatch(r.error ?? '', /\n/);
        t.diagnostic(r.error ?? '');
      }
    });

    test('a certificate from another CA: refused although the client trusts the test CA', async (t) => {
      for (const service of [foreign.service, foreign.tlsService!]) {
        const r = await probe(foreign, service, caFile);
        assert.notEqual(r.state, 'online');
        assert.match(r.error ?? '', /^TLS certificate of .* not accepted: UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
        t.diagnostic(r.error ?? '');
      }
      // No login reached the server that showed the foreign certificate.
      assert.doesNotMatch(foreign.logText(), LOGIN);
    });

    test('the agent: NODE_EXTRA_CA_CERTS in its environment; online with the CA, a one-line status error without', async (t) => {
      const topo = using(t, (root) => cloud(root, ['ok', 'foreign']));
      const targets = [good, foreign];
      topo.clones.forEach((c, i) => {
        git(c, 'config', 'autosync.xmpp.jid', `alice@${targets[i]!.domain}`);
        git(c, 'config', 'autosync.xmpp.service', targets[i]!.tlsService!);
        git(c, 'config', 'autosync.watchRemotes', 'false');
      });
      for (const a of topo.agents)
        Object.assign((a as unknown as { env: NodeJS.ProcessEnv }).env, {
          GIT_AUTOSYNC_XMPP_PASSWORD: PASSWORD,
          NODE_EXTRA_CA_CERTS: caFile,
        });
      await topo.startAll();
      const [ok, bad] = topo.agents as [(typeof topo.agents)[0], (typeof topo.agents)[0]];
      await waitFor(async () => (await ok.status()).signal.state === 'online', {
        what: 'the agent trusting the test CA to be online over direct TLS',
      });
      const err = await waitFor(async () => (await bad.status()).signal.error, {
        what: 'a TLS error in the status of the agent facing the foreign certificate',
      });
      assert.match(
        err,
        /^TLS certificate of xmpps:\/\/127\.0\.0\.1:\d+ not accepted: UNABLE_TO_VERIFY_LEAF_SIGNATURE$/,
      );
      assert.notEqual((await bad.status()).signal.state, 'online');
      t.diagnostic(err);
    });
  });
}
