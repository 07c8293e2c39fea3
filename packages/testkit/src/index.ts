/**
 * @natfleet/testkit — real etcd, real nats-server (JetStream) and network namespaces for
 * natfleet's integration tests. Everything binds to loopback on free ports or lives in
 * namespaces the test creates, and is stopped by PID.
 */
export { DEBIAN_PACKAGES, requireBinary, requireRoot, isRoot } from './binaries.js';
export {
  TestkitError,
  MissingBinaryError,
  NotRootError,
  ServerStartError,
  CommandError,
  TimeoutError,
  isTestkitError,
  isMissingBinaryError,
  isCommandError,
  isServerStartError,
} from './errors.js';
export type { TestkitErrorCode } from './errors.js';
export { EtcdCluster, EtcdMember, startEtcd, startEtcdCluster } from './etcd.js';
export type { EtcdMemberConfig } from './etcd.js';
export { NatsCluster, NatsNode, renderNatsConfig, startNats, startNatsCluster } from './nats.js';
export type { NatsNodeConfig, NatsStartOptions } from './nats.js';
export { Netns, listTestNamespaces, sweepStaleNamespaces } from './netns.js';
export { PeerServer, PersistentConnection, openPersistentConnection, probePeer } from './peer.js';
export { makeTestPki } from './pki.js';
export type { TestPki } from './pki.js';
export type { ProbeResult, SeenPeer } from './peer.js';
export { freePort, freePorts } from './ports.js';
export { ManagedProcess, pidAlive, run, waitUntil } from './process.js';
export type { ExitInfo, RunOptions, RunResult, SpawnOptions } from './process.js';
export { REPO_ROOT, ServiceProcess, serviceEntry } from './service.js';
export type { ServiceStartOptions } from './service.js';
export { makeTempDir, removeDir } from './tempdir.js';
export { NatTopology, DEFAULT_ADDRESSES, hostOf } from './topology.js';
export type { TopologyAddresses } from './topology.js';
