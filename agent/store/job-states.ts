// The state set of each job kind in the one job table. Kept here, at the bottom, because both the job kinds
// (which own the transitions) and the event catalog (which documents `<kind>.job` payloads) need them.
export const PRINT_JOB_STATES = ['queued', 'sending', 'done', 'failed', 'in_doubt', 'canceled'] as const;
export const SEAL_JOB_STATES = [
  'pending',
  'checking',
  'firing',
  'done',
  'failed',
  'in_doubt',
  'expired',
] as const;
export const CERTIFICATE_STATES = [
  'queued',
  'composing',
  'printing',
  'printed',
  'failed',
  'in_doubt',
  'canceled',
] as const;
export const SELF_TEST_STATES = ['running', 'done', 'failed'] as const;
export const RATING_JOB_STATES = ['waiting', 'rated', 'timeout', 'canceled', 'failed'] as const;

/** An agent update's steps (`update.job`); `device` is always `agent`. */
export const UPDATE_JOB_STATES = [
  'accepted',
  'downloading',
  'verifying',
  'installing',
  'restarting',
  'healthy',
  'rolled_back',
  'failed',
] as const;
export type UpdateJobState = (typeof UPDATE_JOB_STATES)[number];

/** Why an update failed (`failed`) or was undone (`rolled_back`). */
export const UPDATE_FAILURE_CODES = [
  'download-failed',
  'too-large',
  'checksum-mismatch',
  'unsafe-archive',
  'release-invalid',
  'backup-failed',
  'install-failed',
  'crashed',
  'unhealthy',
  'invalid-release',
] as const;
export type UpdateFailureCode = (typeof UPDATE_FAILURE_CODES)[number];
