/**
 * @natfleet/compiler — the compiler service (DESIGN.md §7): etcd watch → debounce →
 * snapshot at a revision → compile → sign → publish, leader-elected in etcd, with node
 * registration. The daemon is `dist/main.js`; these are its parts, exported for tests
 * and for tools that embed them (the local stack).
 */
export { CompilerService, electionName } from './compiler-service.js';
export type { CompilerServiceDeps } from './compiler-service.js';
export { DEFAULTS, buildCli, configProblem, defaultReplicaId } from './config.js';
export type { CliHandlers, CompilerConfig, KeygenOptions } from './config.js';
export { Debouncer } from './debouncer.js';
export type { Batch, DebouncerOptions } from './debouncer.js';
export { BundlePublisher, NOTHING_PUBLISHED, decidePublish, natsBundleChannel, ownKeys } from './bundle-publisher.js';
export type { BundleChannel, Candidate, PublishDecision, PublishOutcome, PublishedState } from './bundle-publisher.js';
export { etcdClientFactory, etcdClientOptions } from './etcd-client.js';
export { EvaluationRecorder, natsEvaluationChannel } from './evaluation-recorder.js';
export type { EvaluationChannel, EvaluationRecorderDeps, EvaluationSubjectState, Evaluated } from './evaluation-recorder.js';
export type { EtcdClientOptions } from './etcd-client.js';
export { CompilerError, isCompilerError } from './errors.js';
export { ForeignMessageTracker } from './foreign-message-tracker.js';
export type { CompilerErrorCode } from './errors.js';
export { leaderElection } from './leader-election.js';
export type { ElectionEvent, LeaderElectionOptions } from './leader-election.js';
export { LeaderPipeline } from './leader-pipeline.js';
export type { PipelineDeps, PipelineHealth } from './leader-pipeline.js';
export { LeaseWatchdog } from './lease-watchdog.js';
export type { LeaseWatchdogOptions } from './lease-watchdog.js';
export { CompilerMetrics } from './metrics.js';
export type { SkipReason } from './metrics.js';
export { MessageJudge, judgeMessage, subjectState } from './published-state.js';
export type { ForeignMessage, ForeignReason, JudgeOptions, MessageVerdict, SubjectState } from './published-state.js';
export { NodeRegistrar, announcementFingerprint, normaliseAddresses, planNodeDeregistration, planNodeRegistration } from './node-registration.js';
export type { DeregistrationPlan, NodeRegistrarDeps, RegistrationPlan } from './node-registration.js';
export { NodeCollector, silentNodes, sweepIntervalMs } from './node-gc.js';
export type { LastHeard, NodeCollectorOptions } from './node-gc.js';
export { PUBLIC_KEY_FILE, SIGNING_KEY_FILE, readSigningKeyFile, writeSigningKeyPair } from './signing-key-file.js';
export type { KeygenResult, LoadedSigningKey } from './signing-key-file.js';
export { WarningTracker } from './warning-tracker.js';
export { RolloutController } from './rollout-controller.js';
export type { RolloutControllerDeps, RolloutMetrics } from './rollout-controller.js';
export { admissionContent, admissionHealth, contentKey, contentOf, natsAdmissionChannel } from './rollout-admission.js';
export type { AdmissionChannel, AdmissionContent, AdmissionSubjectState } from './rollout-admission.js';
export { IMMEDIATE_TTL_MS, fleetOf, observe, policyInput, selectCommands, toPlannerPolicy, webhookOf } from './rollout-inputs.js';
export type { CommandSelection, EntryLike, PolicyInput } from './rollout-inputs.js';
export { EVENTS_KEPT, buildRecord, describeEvent, gateResults, outcomesOf } from './rollout-record.js';
export { EtcdRolloutStore, OUTCOMES_KEPT } from './rollout-store.js';
export type { RolloutInputsRead, RolloutStore, StoredRolloutState } from './rollout-store.js';
export { callWebhook } from './rollout-webhook.js';
export type { WebhookCaller, WebhookRequest, WebhookTarget, WebhookVerdict } from './rollout-webhook.js';
