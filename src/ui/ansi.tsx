// A step's output with its colours, as the terminal showed them: SGR codes (bold, the 8 + 8 colours) become spans with
// classes; every other escape sequence is dropped. The text goes in as text (never as HTML), so output cannot inject
// markup into the page.

interface Style {
  bold: boolean;
  fg: number | undefined;
  bg: number | undefined;
}

export interface Piece {
  text: string;
  classes: string;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences are what is read here
const ESCAPE = /\x1b\[([0-9;]*)m|\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g;

export function ansiPieces(text: string): Piece[] {
  const pieces: Piece[] = [];
  let style: Style = { bold: false, fg: undefined, bg: undefined };
  let last = 0;
  const push = (chunk: string) => {
    if (chunk) pieces.push({ text: chunk, classes: classesOf(style) });
  };
  for (const m of text.matchAll(ESCAPE)) {
    push(text.slice(last, m.index));
    last = m.index + m[0].length;
    if (m[1] !== undefined) style = apply(style, m[1]);
  }
  push(text.slice(last));
  return pieces;
}

function apply(style: Style, params: string): Style {
  let next = { ...style };
  for (const code of (params || '0').split(';').map(Number)) {
    if (code === 0) next = { bold: false, fg: undefined, bg: undefined };
    else if (code === 1) next.bold = true;
    else if (code === 22) next.bold = false;
    else if ((code >= 30 && code <= 37) || (code >= 90 && code <= 97)) next.fg = code;
    else if (code === 39) next.fg = undefined;
    else if ((code >= 40 && code <= 47) || (code >= 100 && code <= 107)) next.bg = code;
    else if (code === 49) next.bg = undefined;
  }
  return next;
}

function classesOf(style: Style): string {
  return [style.bold ? 'ansi-bold' : '', style.fg ? `ansi-${style.fg}` : '', style.bg ? `ansi-${style.bg}` : ''].filter(Boolean).join(' ');
}

export function AnsiText({ text }: { text: string }) {
  return (
    <>
      {ansiPieces(text).map((p, i) =>
        p.classes ? (
          // biome-ignore lint/suspicious/noArrayIndexKey: the pieces of one text, in order
          <span key={i} class={p.classes}>
            {p.text}
          </span>
        ) : (
          p.text
        ),
      )}
    </>
  );
}
