// The names an expression may read, and the fields under them that flow defines.
export const SCOPE_ROOTS = ['inputs', 'env', 'secrets', 'steps', 'run', 'previous', 'item', 'index'] as const;
export const RUN_FIELDS = ['id', 'attempt', 'workflow', 'name', 'started_at'] as const;
export const STEP_RESULT_FIELDS = ['output', 'outputs', 'status', 'error', 'attempts', 'started_at', 'ended_at'] as const;
