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
 * per call (about 24 ms of a 100-step `flow validate` on Node 20). As in yaml, reading stops once a second document
 * has been composed.
 */
export function parseDocument(text: string, options: Options, nesting?: NestingLimit): Document.Parsed {
  const parser = new Parser(options.lineCounter?.addNewLine);
  const composer = new Composer(options);
  let doc: Document.Parsed | undefined;
  let documents = 0;
  const take = (composed: Iterable<Document.Parsed>) => {
    for (const next of composed) {
      if (!doc) {
        doc = next;
        continue;
      }
      if (doc.options.logLevel !== 'silent') {
        doc.errors.push(
          new YAMLParseError(
            [next.range[0], next.range[1]],
            'MULTIPLE_DOCS',
            'Source contains multiple documents; please use YAML.parseAllDocuments()',
          ),
        );
      }
      throw STOP;
    }
  };
  try {
    parser.parse(text, false, (token) => {
      if (token.type === 'document') {
        documents++;
        const tooDeep = token.value ? prepareTree(token.value, nesting) : undefined;
        if (tooDeep !== undefined) {
          if (documents === 1) throw new NestingTooDeep(tooDeep);
          // A later document (yaml composes the third before it hands over the second) only shows that there is more
          // than one: it is composed empty.
          token = { ...token, value: undefined };
        }
      }
      take(composer.next(token));
    });
    // end(forceDoc = true) yields a document even for empty text.
    take(composer.end(true, text.length));
  } catch (err) {
    if (err !== STOP) throw err;
  }
  return doc as Document.Parsed;
}

// Thrown through yaml's parser once a second document has been handed over: the rest of the text is not read, as
// yaml's parseDocument stops there too.
const STOP = Symbol('a second document');

/** A first document whose collections nest deeper than `refuseAbove` is refused before it is composed. */
export interface NestingLimit {
  refuseAbove: number;
  /** The depth whose first collection, in document order, the refusal points at. */
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
// - Nesting past the limit is found (the place to report is returned), where the composer would run out of stack
//   (about 800-950 levels here) and, on Node 20, a second such document could then end the process in V8's regular
//   expression compiler.
// - The composer reads a block collection's items once, in order, with for…of (yaml's resolve-block-map and
//   resolve-block-seq); an iterator of the array's own empties each slot as it moves past it. Flow collections are
//   read by index and stay as they are: a step written `{ … }` is one item of the block sequence around it.
function prepareTree(root: CST.Token, nesting: NestingLimit | undefined): number | undefined {
  const refuseAbove = nesting?.refuseAbove ?? Number.POSITIVE_INFINITY;
  // Two stacks side by side: no pair allocated per node of a tree of hundreds of thousands.
  const pending: (CST.Token | null | undefined)[] = [root];
  const depths: number[] = [1];
  while (pending.length > 0) {
    const token = pending.pop();
    const depth = depths.pop() as number;
    if (!isCollection(token)) continue;
    if (depth > refuseAbove) return firstAtDepth(root as Collection, nesting?.reportAt ?? depth);
    const items = token.items as Item[];
    for (const item of items) {
      pending.push('key' in item ? item.key : undefined, item.value);
      depths.push(depth + 1, depth + 1);
    }
    if (token.type !== 'flow-collection' && items.length >= MANY_ITEMS)
      Object.defineProperty(items, Symbol.iterator, { value: releasingIterator });
  }
  return undefined;
}

// Where the composed document's check (findTooDeep in load-yaml.ts) would point, read from the tree: the first
// collection at `depth` in document order, each item's value before a collection that is a mapping's key, which is
// refused at any depth. (A flow sequence's `k: v` item and a `!!pairs` tag nest differently once composed: for those
// the place may differ, not the verdict.) Items are read by index: some arrays already release them.
function firstAtDepth(root: Collection, depth: number): number {
  const frames = [{ token: root, depth: 1, next: 0, keyDue: false }];
  if (depth <= 1) return root.offset;
  while (frames.length > 0) {
    const frame = frames[frames.length - 1] as (typeof frames)[number];
    const item = frame.token.items[frame.next] as Item | undefined;
    if (item === undefined) {
      frames.pop();
      continue;
    }
    if (frame.keyDue) {
      frame.keyDue = false;
      frame.next++;
      const isMap = frame.token.type === 'block-map' || (frame.token.type === 'flow-collection' && frame.token.start.source === '{');
      if (isMap && 'key' in item && isCollection(item.key)) return item.key.offset;
      continue;
    }
    frame.keyDue = true;
    if (!isCollection(item.value)) continue;
    if (frame.depth + 1 >= depth) return item.value.offset;
    frames.push({ token: item.value, depth: frame.depth + 1, next: 0, keyDue: false });
  }
  return root.offset;
}

function* releasingIterator<T>(this: Array<T | undefined>): Generator<T | undefined> {
  for (let i = 0; i < this.length; i++) {
    const item = this[i];
    this[i] = undefined;
    yield item;
  }
}
