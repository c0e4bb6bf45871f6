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
export function parseDocument(text: string, options: Options): Document.Parsed {
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
    if (token.type === 'document' && token.value) releaseItems(token.value);
    take(composer.next(token));
  });
  if (more) take(composer.end(true, text.length));
  // end(forceDoc = true) yields a document even for empty text.
  return doc as Document.Parsed;
}

// A collection this small is released with the item around it.
const MANY_ITEMS = 16;

// The composer reads a block collection's items once, in order, with for…of (yaml's resolve-block-map and
// resolve-block-seq); an iterator of the array's own empties each slot as it moves past it. Flow collections are
// read by index and stay as they are: a step written `{ … }` is one item of the block sequence around it. The tree
// is walked with a stack of its own, not by recursion: a document nested 100,000 deep is the composer's to refuse.
function releaseItems(root: CST.Token): void {
  const pending: (CST.Token | null | undefined)[] = [root];
  while (pending.length > 0) {
    const token = pending.pop();
    if (token?.type !== 'block-map' && token?.type !== 'block-seq') continue;
    const items = token.items as Array<CST.BlockMap['items'][number] | CST.BlockSequence['items'][number]>;
    for (const item of items) pending.push('key' in item ? item.key : undefined, item.value);
    if (items.length >= MANY_ITEMS) Object.defineProperty(items, Symbol.iterator, { value: releasingIterator });
  }
}

function* releasingIterator<T>(this: Array<T | undefined>): Generator<T | undefined> {
  for (let i = 0; i < this.length; i++) {
    const item = this[i];
    this[i] = undefined;
    yield item;
  }
}
