import { Composer, type CST, type Document, type DocumentOptions, type ParseOptions, type SchemaOptions, YAMLParseError } from 'yaml';
import { Parser } from '../../generated/yaml-parser.mjs';

// Errors are left as the composer makes them (yaml's prettyErrors: false), and no node keeps its syntax tree, which
// is let go of (keepSourceTokens), so neither option is taken.
type Options = Omit<ParseOptions & DocumentOptions & SchemaOptions, 'prettyErrors' | 'keepSourceTokens'>;

/**
 * The yaml package's `parseDocument`, except that the syntax tree is let go of as the document is composed.
 *
 * The parser hands over a document's syntax tree only once all of it is built, and `parseDocument` holds it until
 * the document is composed: the two are live together, each tens of times the text's size (for a 10,000-step file
 * 48 and 23 MB, most of a run's peak). Here each block collection's items are released as the composer passes
 * them, so the tree shrinks while the document grows. The same parser and composer decide everything else.
 *
 * The parser is yaml's own with its generators made plain methods (scripts/yaml-parser.mjs): it hands each token on
 * by a call, so a document is lexed, parsed and composed token by token as yaml does it, without a generator object
 * per call (about 24 ms of a 100-step `flow validate` on Node 20). After a second document, the rest is not composed.
 */
export function parseDocument(text: string, options: Options, nesting?: NestingLimit): Document.Parsed {
  const parser = new Parser(options.lineCounter?.addNewLine);
  const composer = new Composer(options);
  let doc: Document.Parsed | undefined;
  let more = true;
  const take = (composed: Iterable<Document.Parsed>) => {
    for (const next of composed) {
      if (!doc) doc = next;
      else if (more) {
        more = false;
        if (doc.options.logLevel !== 'silent') {
          doc.errors.push(
            new YAMLParseError(
              [next.range[0], next.range[1]],
              'MULTIPLE_DOCS',
              'Source contains multiple documents; please use YAML.parseAllDocuments()',
            ),
          );
        }
      }
    }
  };
  parser.parse(text, false, (token) => {
    if (!more) return;
    if (token.type === 'document' && token.value) prepareTree(token.value, nesting);
    take(composer.next(token));
  });
  if (more) take(composer.end(true, text.length));
  // end(forceDoc = true) yields a document even for empty text.
  return doc as Document.Parsed;
}

/** Collections nested deeper than `refuseAbove` are refused before the document is composed. */
export interface NestingLimit {
  refuseAbove: number;
  /** The depth whose collection the refusal points at. */
  reportAt: number;
}

/** A document whose collections nest past its NestingLimit; `offset` is where the collection at `reportAt` starts. */
export class NestingTooDeep extends Error {
  constructor(readonly offset: number) {
    super('the document nests too deep to be composed');
  }
}

type Collection = CST.BlockMap | CST.BlockSequence | CST.FlowCollection;
type Item = CST.BlockMap['items'][number] | CST.BlockSequence['items'][number];

const isCollection = (token: CST.Token | null | undefined): token is Collection =>
  token?.type === 'block-map' || token?.type === 'block-seq' || token?.type === 'flow-collection';

// A collection this small is released with the item around it.
const MANY_ITEMS = 16;

// Walked with a stack of its own, not by recursion. Two things are done before the composer, which recurses once
// per level, reads the tree:
// - Nesting past the limit is refused, where the composer would run out of stack (about 900 levels of `- - …`
//   here) and, on Node 20, a second such document could then end the process in V8's regular expression compiler.
// - The composer reads a block collection's items once, in order, with for…of (yaml's resolve-block-map and
//   resolve-block-seq); an iterator of the array's own empties each slot as it moves past it. Flow collections are
//   read by index and stay as they are: a step written `{ … }` is one item of the block sequence around it.
function prepareTree(root: CST.Token, nesting: NestingLimit | undefined): void {
  const refuseAbove = nesting?.refuseAbove ?? Number.POSITIVE_INFINITY;
  // Two stacks side by side: no pair allocated per node of a tree of hundreds of thousands.
  const pending: (CST.Token | null | undefined)[] = [root];
  const depths: number[] = [1];
  while (pending.length > 0) {
    const token = pending.pop();
    const depth = depths.pop() as number;
    if (!isCollection(token)) continue;
    if (depth > refuseAbove) throw new NestingTooDeep(offsetAtDepth(root, token, nesting?.reportAt ?? depth));
    const items = token.items as Item[];
    for (const item of items) {
      pending.push('key' in item ? item.key : undefined, item.value);
      depths.push(depth + 1, depth + 1);
    }
    if (token.type !== 'flow-collection' && items.length >= MANY_ITEMS)
      Object.defineProperty(items, Symbol.iterator, { value: releasingIterator });
  }
}

// Where the collection at `depth` on the way from `root` to `target` starts. Items are read by index: some arrays
// already iterate by releasing their items.
function offsetAtDepth(root: CST.Token, target: CST.Token, depth: number): number {
  const pending: { token: CST.Token; parent?: { token: CST.Token; parent?: unknown } }[] = [{ token: root }];
  type Entry = (typeof pending)[number];
  while (pending.length > 0) {
    const entry = pending.pop() as Entry;
    if (entry.token === target) {
      const chain: CST.Token[] = [];
      for (let e: Entry | undefined = entry; e; e = e.parent as Entry | undefined) chain.unshift(e.token);
      return (chain[depth - 1] ?? target).offset;
    }
    if (!isCollection(entry.token)) continue;
    const items = entry.token.items as Item[];
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as Item;
      for (const token of ['key' in item ? item.key : undefined, item.value]) if (token) pending.push({ token, parent: entry });
    }
  }
  return target.offset;
}

function* releasingIterator<T>(this: Array<T | undefined>): Generator<T | undefined> {
  for (let i = 0; i < this.length; i++) {
    const item = this[i];
    this[i] = undefined;
    yield item;
  }
}
