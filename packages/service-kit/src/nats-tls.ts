/**
 * NATS client TLS for every daemon: the three settings, validated at start (cert and key
 * together, files readable), turned into nats.js's `tls` connect option. With it the
 * client requires TLS from the server; with a cert and key it also authenticates by
 * client certificate (nats-server `tls { verify: true }`).
 */
import { accessSync, constants } from 'node:fs';
import { Option } from 'commander';

export interface NatsTlsFiles {
  natsCaFile?: string;
  natsCertFile?: string;
  natsKeyFile?: string;
}

/** nats.js `ConnectionOptions.tls` (node transport reads the files itself). */
export interface NatsTls {
  caFile: string;
  certFile?: string;
  keyFile?: string;
}

export function natsTlsOptions(): Option[] {
  return [
    new Option('--nats-ca-file <file>', 'CA certificate (PEM) that signed the NATS servers; requires TLS to NATS').env('NATFLEET_NATS_CA_FILE'),
    new Option('--nats-cert-file <file>', 'client certificate (PEM) for NATS TLS client auth').env('NATFLEET_NATS_CERT_FILE'),
    new Option('--nats-key-file <file>', 'private key (PEM) of --nats-cert-file').env('NATFLEET_NATS_KEY_FILE'),
  ];
}

function readable(flag: string, file: string): string {
  try {
    accessSync(file, constants.R_OK);
    return file;
  } catch (err) {
    throw new Error(`option '${flag}' (${file}) cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/**
 * The `tls` connect option, or undefined for plain connections. Throws Error naming the
 * setting when cert and key are not given together, when a cert/key comes without a CA,
 * or when a file cannot be read.
 */
export function loadNatsTls(f: NatsTlsFiles): NatsTls | undefined {
  if ((f.natsCertFile === undefined) !== (f.natsKeyFile === undefined)) {
    throw new Error("options '--nats-cert-file' and '--nats-key-file' must be given together");
  }
  if (f.natsCaFile === undefined) {
    if (f.natsCertFile !== undefined) throw new Error("option '--nats-cert-file' needs '--nats-ca-file' (TLS to NATS)");
    return undefined;
  }
  return {
    caFile: readable('--nats-ca-file', f.natsCaFile),
    ...(f.natsCertFile ? { certFile: readable('--nats-cert-file', f.natsCertFile), keyFile: readable('--nats-key-file', f.natsKeyFile!) } : {}),
  };
}
