// A problem found in a workflow file, located at its source position.
export type Severity = 'error' | 'warning';

export interface SourcePosition {
  line: number; // 1-based
  column: number; // 1-based
}

export interface Diagnostic {
  file: string;
  line: number;
  column: number;
  /** Length of the highlighted span on `line`, for the caret under the snippet. */
  length: number;
  severity: Severity;
  code: DiagnosticCode;
  message: string;
  /** JSON pointer into the document, '' for the whole file. */
  path: string;
  hint?: string;
}

// The stable codes, one per kind of problem. The README documents each; changing one is a breaking change.
export const DIAGNOSTIC_CODES = {
  'yaml-syntax': 'The file is not valid YAML.',
  'duplicate-key': 'A mapping names the same key twice.',
  'file-too-large': 'The file is larger than the loader accepts (5 MB).',
  'not-text': 'The file is not UTF-8 text.',
  'too-deep': 'The document nests deeper than the loader accepts (64 levels).',
  'alias-limit': 'Aliases expand to too many nodes (an alias bomb).',
  'wrong-type': 'A value has the wrong type (string, number, list, mapping ...).',
  'missing-key': 'A required key is missing.',
  'unknown-key': 'A key is not part of the language at this place.',
  'invalid-value': 'A value is out of its allowed set or range.',
  'invalid-duration': 'A duration is not a number with a unit (500ms, 30s, 5m, 2h, 1d).',
  'invalid-id': 'A step id does not match ^[a-z][a-z0-9_]*$.',
  'duplicate-id': 'Two steps share an id (ids are unique across the whole file).',
  'unknown-step-type': 'A step type is neither built in nor declared under `executors`.',
  'expression-syntax': 'A ${{ }} expression does not parse.',
  'unknown-name': 'An expression names something that is not in scope.',
  'unknown-input': 'An expression reads an input that `inputs` does not declare.',
  'unknown-secret': 'An expression reads a secret that `secrets` does not list.',
  'unknown-step': 'An expression or field names a step that does not exist.',
  'unknown-output': 'An expression reads a named output that the step does not declare.',
  'step-not-finished': 'An expression reads a step that cannot have finished when it is evaluated.',
  'item-outside-for-each': '`item` or `index` is used outside a `for_each` step.',
  'executor-not-found': 'A custom executor module does not exist.',
  'executor-invalid': 'A custom executor module does not export `execute`, or cannot be loaded.',
  'workflow-not-found': 'A `workflow` step names a file that does not exist.',
  'workflow-cycle': 'A `workflow` step includes its own file, directly or through others.',
  'unknown-service': 'An `http` step names a service that `services` does not declare.',
  'no-model-fits': "An AI step's model selection is satisfied by none of the models it prefers.",
  'schema-not-strict': "An AI step's response_schema cannot be sent in strict mode.",
  'secret-outside-headers': 'A service reads a secret outside its `headers` (in its `base_url`, say).',
  'unused-input': 'An input is declared and never read (warning).',
  'unused-output': 'A named step output is declared and never read (warning).',
} as const;

export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;

export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || a.code.localeCompare(b.code);
}
