export { Compactor, partitionOf, type CompactionEvent, type CompactorOptions, type PartitionResult, type RunOptions, type RunResult } from './compactor.js';
export { compactCommand } from './cli.js';
export { leaseKey, LEASE_ROOT } from './lease.js';
export { pendingDeleteKeys, PENDING_DELETES_ROOT } from '../log/pending-deletes.js';
