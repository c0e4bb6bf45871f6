import { isAlias, isMap, isScalar, isSeq, type Document, type Node, type Pair } from 'yaml';

export type PathSegment = string | number;

export interface Located {
  /** The value node at the path, or the deepest ancestor that exists in the source. */
  node: Node | undefined;
  /** The key node when the path ends in a mapping key that exists. */
  key: Node | undefined;
  /** True when the whole path was found. */
  exact: boolean;
  /** The `<<` key through which the path went, when it did: the place in the file the value comes in. */
  viaMerge?: Node;
}

// Finds the source node for a data path, following aliases and merge keys, so errors point at real text.
export function locate(doc: Document, path: readonly PathSegment[]): Located {
  let node = resolve(doc, doc.contents as Node | null);
  let key: Node | undefined;
  let viaMerge: Node | undefined;
  for (const [i, segment] of path.entries()) {
    const next = child(doc, node, segment);
    if (!next) return { node, key: i === 0 ? undefined : key, exact: false, ...(viaMerge ? { viaMerge } : {}) };
    node = resolve(doc, next.value);
    key = next.key;
    viaMerge ??= next.mergeKey;
    if (!node) return { node: key, key, exact: false, ...(viaMerge ? { viaMerge } : {}) };
  }
  return { node, key, exact: true, ...(viaMerge ? { viaMerge } : {}) };
}

interface Child {
  key: Node | undefined;
  value: Node | undefined;
  mergeKey?: Node;
}

function child(doc: Document, node: Node | undefined, segment: PathSegment): Child | undefined {
  if (isSeq(node) && typeof segment === 'number') {
    const item = node.items[segment] as Node | undefined;
    return item === undefined ? undefined : { key: undefined, value: item };
  }
  if (!isMap(node)) return undefined;
  const pairs = node.items as Pair<Node, Node>[];
  // Keys written later override merged ones, so search direct keys first.
  for (const pair of pairs) {
    if (isScalar(pair.key) && typeof pair.key.value !== 'symbol' && String(pair.key.value) === String(segment))
      return { key: pair.key, value: pair.value ?? undefined };
  }
  for (const pair of pairs) {
    if (isMergeKey(pair.key)) {
      const sources = isSeq(pair.value) ? (pair.value.items as Node[]) : [pair.value as Node];
      for (const source of sources) {
        const found = child(doc, resolve(doc, source), segment);
        if (found) return { ...found, mergeKey: pair.key as Node };
      }
    }
  }
  return undefined;
}

// yaml represents `<<` as a scalar holding a symbol when merge keys are on.
function isMergeKey(key: unknown): boolean {
  return isScalar(key) && (key.value === '<<' || (typeof key.value === 'symbol' && key.source === '<<'));
}

function resolve(doc: Document, node: Node | null | undefined): Node | undefined {
  let current = node ?? undefined;
  for (let hops = 0; current && isAlias(current) && hops < 100; hops++) current = current.resolve(doc) as Node | undefined;
  return current;
}

export function pointer(path: readonly PathSegment[]): string {
  return path.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

export function parsePointer(p: string): PathSegment[] {
  if (p === '') return [];
  return p
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9]\d*)$/.test(s) ? Number(s) : s));
}
