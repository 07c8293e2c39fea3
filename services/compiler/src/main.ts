#!/usr/bin/env node
/**
 * natfleet-compiler entry point: parse settings (failing fast on bad ones), then either
 * run the daemon or `keygen`. Everything long-lived is built here once and passed down;
 * nothing below reads argv or env.
 */
import { createLogger, onShutdown, startOpsServer } from '@natfleet/service-kit';
import { CompilerService } from './compiler-service.js';
import { buildCli, type CompilerConfig, type KeygenOptions } from './config.js';
import { isCompilerError } from './errors.js';
import { CompilerMetrics } from './metrics.js';
import { readSigningKeyFile, writeSigningKeyPair } from './signing-key-file.js';

/** Startup failures that are the operator's to fix: one line on stderr, exit 1. */
function failStart(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}

async function runDaemon(config: CompilerConfig): Promise<void> {
  let loaded;
  try {
    loaded = readSigningKeyFile(config.signingKeyFile);
  } catch (err) {
    failStart((err as Error).message);
  }
  const logger = createLogger('natfleet-compiler', config.logLevel).child({ replica: config.replicaId, cluster: config.cluster });
  if (loaded.looseMode) logger.warn({ file: config.signingKeyFile }, 'signing key file is readable by group or others; chmod 600 it');
  const metrics = new CompilerMetrics();
  const service = new CompilerService({ config, key: loaded.key, logger, metrics });

  let ops;
  try {
    ops = await startOpsServer({ host: config.opsHost, port: config.opsPort, registry: metrics.registry, readiness: () => service.readiness() });
  } catch (err) {
    failStart(`option '--ops-host'/'--ops-port' (${config.opsHost}:${config.opsPort}): cannot listen: ${(err as Error).message}`);
  }
  const opsServer = ops;
  onShutdown(async () => {
    await service.close();
    await opsServer.close();
  }, logger);
  logger.info(
    {
      keyId: loaded.key.keyId,
      etcd: config.etcdEndpoints,
      prefix: config.etcdPrefix,
      nats: config.natsServers,
      debounceMs: config.debounceMs,
      maxDelayMs: config.maxDelayMs,
      leaseTtlSeconds: config.leaseTtlSeconds,
      nodeGcAfterMs: config.nodeGcAfterMs ?? 'off',
      ops: `${config.opsHost}:${opsServer.port}`,
    },
    'natfleet-compiler starting',
  );
  try {
    await service.start();
  } catch (err) {
    logger.fatal({ err }, 'cannot start');
    await service.close().catch(() => undefined);
    await opsServer.close().catch(() => undefined);
    process.exit(1);
  }
}

async function keygen(o: KeygenOptions): Promise<void> {
  try {
    const r = writeSigningKeyPair(o.out, { force: o.force });
    process.stderr.write(`wrote ${r.keyFile} (0600) and ${r.publicKeyFile}; keyId:\n`);
    process.stdout.write(`${r.keyId}\n`);
  } catch (err) {
    failStart(isCompilerError(err) ? err.message : String(err));
  }
}

await buildCli({ run: runDaemon, keygen }).parseAsync(process.argv);
