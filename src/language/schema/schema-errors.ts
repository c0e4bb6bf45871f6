import type { ErrorObject } from 'ajv';

// ajv reports every failing branch of an anyOf/oneOf; a person needs the one that was meant.
// ajv emits a branch's errors right before the anyOf/oneOf error itself, so the errors under the
// same instance path that precede it are its branches' errors.

export type SchemaError = ErrorObject & { typeNames?: string[] };

export function reduceSchemaErrors(errors: readonly ErrorObject[]): SchemaError[] {
  const out: SchemaError[] = [];
  for (const error of errors) {
    if (error.keyword === 'if') continue;
    if (error.keyword !== 'anyOf' && error.keyword !== 'oneOf') {
      out.push(error);
      continue;
    }
    let first = out.length;
    while (first > 0 && isUnder(out[first - 1]!.instancePath, error.instancePath)) first--;
    const branchErrors = out.splice(first);
    out.push(...reduceBranches(error, branchErrors));
  }
  return dedupe(out);
}

function reduceBranches(error: ErrorObject, branchErrors: SchemaError[]): SchemaError[] {
  const branches = Array.isArray(error.schema) ? (error.schema as Record<string, unknown>[]) : [];
  const at = error.instancePath;
  if (error.keyword === 'oneOf' && Array.isArray(error.params['passingSchemas'])) {
    return [{ ...error, keyword: 'oneOfMany' }];
  }
  const requiredOnly = branches.length > 0 && branches.every((b) => Object.keys(b).length === 1 && Array.isArray(b['required']));
  if (requiredOnly) {
    const keys = branches.flatMap((b) => b['required'] as string[]);
    return [{ ...error, keyword: 'requiredOneOf', params: { keys } }];
  }
  const groups = branches.map(() => [] as SchemaError[]);
  const unplaced: SchemaError[] = [];
  for (const e of branchErrors) {
    const group = groups[branchOf(error, branches, e)];
    if (group) group.push(e);
    else unplaced.push(e);
  }
  // Errors from inside a $ref carry the ref's own schema path; one below this value came from a branch that accepted its type.
  const typeFits = groups.findIndex((errs, i) => branchFits(branches[i] ?? {}, errs, at, error.data));
  if (typeFits >= 0) groups[typeFits]!.push(...unplaced.filter((e) => e.instancePath !== at));
  const fits = groups.map((errs, i) => ({ errs, i, fits: branchFits(branches[i] ?? {}, errs, at, error.data) })).filter((g) => g.fits);
  if (fits.length > 0) {
    fits.sort((a, b) => depth(b.errs) - depth(a.errs) || a.errs.length - b.errs.length);
    return fits[0]!.errs;
  }
  const typeNames = groups.flatMap((errs, i) => describeBranch(branches[i] ?? {}, errs, at));
  return [{ ...error, keyword: 'type', params: { type: typeNames }, typeNames: [...new Set(typeNames)] }];
}

function branchOf(error: ErrorObject, branches: Record<string, unknown>[], e: ErrorObject): number {
  const prefix = `${error.schemaPath}/`;
  if (e.schemaPath.startsWith(prefix)) return Number(e.schemaPath.slice(prefix.length).split('/')[0]);
  const byRef = branches.findIndex((b) => typeof b['$ref'] === 'string' && e.schemaPath.startsWith(b['$ref'] as string));
  return byRef;
}

const isExpressionBranch = (branch: Record<string, unknown>): boolean => branch['$ref'] === '#/$defs/expression';

function branchFits(branch: Record<string, unknown>, errs: SchemaError[], at: string, data: unknown): boolean {
  if (isExpressionBranch(branch)) return typeof data === 'string' && data.trimStart().startsWith('${{');
  if (Array.isArray(branch['enum'])) return (branch['enum'] as unknown[]).some((v) => jsonType(v) === jsonType(data));
  return !errs.some((e) => e.instancePath === at && e.keyword === 'type');
}

function jsonType(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

function describeBranch(branch: Record<string, unknown>, errs: SchemaError[], at: string): string[] {
  if (isExpressionBranch(branch)) return ['expression'];
  const typeError = errs.find((e) => e.instancePath === at && e.keyword === 'type');
  if (typeError) return typeError.typeNames ?? [typeError.params['type']].flat().map(String);
  if (Array.isArray(branch['enum'])) return (branch['enum'] as unknown[]).map((v) => JSON.stringify(v));
  return [];
}

function isUnder(path: string, parent: string): boolean {
  return path === parent || path.startsWith(`${parent}/`);
}

function depth(errs: SchemaError[]): number {
  return Math.max(0, ...errs.map((e) => e.instancePath.split('/').length));
}

function dedupe(errors: SchemaError[]): SchemaError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const key = `${e.instancePath}|${e.keyword}|${JSON.stringify(e.params)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
