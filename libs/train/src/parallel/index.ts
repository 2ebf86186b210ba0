// Data-parallel training on worker threads (`workers > 1`): replicas, SyncBN, gradient exchange in shared memory.
export { ReplicaGroup, type ReplicaGroupOptions, type ReplicaStepResult, type ObjectiveLoss } from './replica-group.js';
export type { ReplicaState, ReplicaOptimizerSpec, StepPhases } from './protocol.js';
export { splitBatch, type Shard } from './shards.js';
export { trainWithWorkers, type ParallelStepReport } from './train-with-workers.js';
