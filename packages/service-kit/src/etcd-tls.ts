/**
 * etcd client TLS for every daemon that talks to etcd: the three settings, and turning
 * them into etcd3 `credentials`. A bad combination or an unreadable file stops the daemon
 * at start with a message naming the setting.
 */
import { readFileSync } from 'node:fs';
import { Option } from 'commander';

export interface EtcdTlsFiles {
  etcdCaFile?: string;
  etcdCertFile?: string;
  etcdKeyFile?: string;
}

/** What etcd3's `IOptions.credentials` takes. */
export interface EtcdCredentials {
  rootCertificate: Buffer;
  certChain?: Buffer;
  privateKey?: Buffer;
}

/** The commander options (flags with NATFLEET_* env), for `addOption`. */
export function etcdTlsOptions(): Option[] {
  return [
    new Option('--etcd-ca-file <file>', 'CA certificate (PEM) that signed the etcd servers; enables TLS to etcd').env('NATFLEET_ETCD_CA_FILE'),
    new Option('--etcd-cert-file <file>', 'client certificate (PEM) for etcd client-certificate auth').env('NATFLEET_ETCD_CERT_FILE'),
    new Option('--etcd-key-file <file>', 'private key (PEM) of --etcd-cert-file').env('NATFLEET_ETCD_KEY_FILE'),
  ];
}

function read(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`option '${flag}' (${file}) cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/**
 * etcd3 credentials from the settings, or undefined for plain connections. Throws Error
 * naming the setting when cert and key are not given together, when a cert/key is given
 * without a CA, when https endpoints have no CA, or when a file cannot be read.
 */
export function loadEtcdTls(f: EtcdTlsFiles, endpoints: readonly string[] = []): EtcdCredentials | undefined {
  if ((f.etcdCertFile === undefined) !== (f.etcdKeyFile === undefined)) {
    throw new Error("options '--etcd-cert-file' and '--etcd-key-file' must be given together");
  }
  if (f.etcdCaFile === undefined) {
    if (f.etcdCertFile !== undefined) throw new Error("option '--etcd-cert-file' needs '--etcd-ca-file' (TLS to etcd)");
    if (endpoints.some((e) => e.startsWith('https://'))) throw new Error("https etcd endpoints need '--etcd-ca-file' (NATFLEET_ETCD_CA_FILE)");
    return undefined;
  }
  return {
    rootCertificate: read('--etcd-ca-file', f.etcdCaFile),
    ...(f.etcdCertFile ? { certChain: read('--etcd-cert-file', f.etcdCertFile), privateKey: read('--etcd-key-file', f.etcdKeyFile!) } : {}),
  };
}
