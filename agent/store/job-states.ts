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
