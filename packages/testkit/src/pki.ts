/**
 * A throwaway PKI for TLS tests (openssl CLI): a CA, a server certificate for 127.0.0.1
 * and a client certificate, all EC P-256, valid two days. Files only; nothing is trusted
 * system-wide.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireBinary } from './binaries.js';
import { run } from './process.js';

export interface TestPki {
  dir: string;
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

/** Creates the PKI in `dir` (which must exist). Throws MissingBinaryError when openssl is absent. */
export async function makeTestPki(dir: string): Promise<TestPki> {
  const openssl = requireBinary('openssl');
  const p = (f: string): string => join(dir, f);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run(openssl, ['req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.crt'), '-days', '2', '-subj', '/CN=natfleet-test-ca']);
  const issue = async (name: string, cn: string, ext: string): Promise<void> => {
    writeFileSync(p(`${name}.ext`), ext);
    await run(openssl, ['req', ...ec, '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`), '-subj', `/CN=${cn}`]);
    await run(openssl, ['x509', '-req', '-in', p(`${name}.csr`), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p(`${name}.crt`), '-days', '2', '-extfile', p(`${name}.ext`)]);
  };
  // nats.js checks an IP URL against the name "localhost"; etcd3 against the IP: both are in the SANs.
  await issue('server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  await issue('client', 'natfleet-client', 'extendedKeyUsage=clientAuth\n');
  return {
    dir,
    caFile: p('ca.crt'),
    serverCertFile: p('server.crt'),
    serverKeyFile: p('server.key'),
    clientCertFile: p('client.crt'),
    clientKeyFile: p('client.key'),
  };
}
