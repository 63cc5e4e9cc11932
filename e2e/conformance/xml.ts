/**
 * A small XML reader, enough for the JUnit reports Go's encoding/xml writes: elements,
 * attributes, text, entities, comments, CDATA, declarations. No namespaces, no DTDs (pure).
 */
import { ConformanceError } from './selections.js';

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Concatenated text directly inside this element (entities decoded). */
  text: string;
}

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function fail(msg: string, at: number): never {
  throw new ConformanceError('EXML', `XML: ${msg} at offset ${at}`);
}

function decode(s: string, at: number): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);|&/g, (whole, ent: string | undefined) => {
    if (ent === undefined) fail('bare &', at);
    if (ent.startsWith('#x')) return String.fromCodePoint(Number.parseInt(ent.slice(2), 16));
    if (ent.startsWith('#')) return String.fromCodePoint(Number.parseInt(ent.slice(1), 10));
    const c = NAMED[ent];
    if (c === undefined) fail(`unknown entity ${whole}`, at);
    return c;
  });
}

const ATTR = /\s*([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/y;
const NAME = /[^\s/>]+/y;

function parseTag(src: string, start: number): { el: XmlElement; end: number; selfClosing: boolean } {
  NAME.lastIndex = start + 1;
  const m = NAME.exec(src);
  if (!m) fail('element without a name', start);
  const el: XmlElement = { name: m[0], attrs: {}, children: [], text: '' };
  let i = NAME.lastIndex;
  for (;;) {
    ATTR.lastIndex = i;
    const a = ATTR.exec(src);
    if (!a) break;
    el.attrs[a[1] as string] = decode(a[2] ?? a[3] ?? '', i);
    i = ATTR.lastIndex;
  }
  while (/\s/.test(src[i] ?? '')) i++;
  if (src.startsWith('/>', i)) return { el, end: i + 2, selfClosing: true };
  if (src[i] === '>') return { el, end: i + 1, selfClosing: false };
  return fail(`malformed tag <${el.name}`, i);
}

function skipTo(src: string, from: number, marker: string, what: string): number {
  const j = src.indexOf(marker, from);
  if (j < 0) fail(`unterminated ${what}`, from);
  return j + marker.length;
}

/** Parses a document and returns its root element; throws ConformanceError on malformed input. */
export function parseXml(src: string): XmlElement {
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let i = 0;
  while (i < src.length) {
    const lt = src.indexOf('<', i);
    const textEnd = lt < 0 ? src.length : lt;
    const top = stack.at(-1);
    if (textEnd > i) {
      const raw = src.slice(i, textEnd);
      if (top) top.text += decode(raw, i);
      else if (raw.trim() !== '') fail('text outside the root element', i);
    }
    if (lt < 0) break;
    if (src.startsWith('<?', lt)) i = skipTo(src, lt, '?>', 'declaration');
    else if (src.startsWith('<!--', lt)) i = skipTo(src, lt, '-->', 'comment');
    else if (src.startsWith('<![CDATA[', lt)) {
      i = skipTo(src, lt, ']]>', 'CDATA section');
      if (!top) fail('CDATA outside the root element', lt);
      top.text += src.slice(lt + 9, i - 3);
    } else if (src.startsWith('<!', lt)) i = skipTo(src, lt, '>', 'declaration');
    else if (src.startsWith('</', lt)) {
      const close = src.indexOf('>', lt);
      if (close < 0) fail('unterminated closing tag', lt);
      const name = src.slice(lt + 2, close).trim();
      const open = stack.pop();
      if (open?.name !== name) fail(`</${name}> does not close <${open?.name ?? 'nothing'}>`, lt);
      i = close + 1;
    } else {
      const { el, end, selfClosing } = parseTag(src, lt);
      if (top) top.children.push(el);
      else if (root) fail('second root element', lt);
      else root = el;
      if (!selfClosing) stack.push(el);
      i = end;
    }
  }
  if (stack.length > 0) fail(`<${stack.at(-1)?.name}> is never closed`, src.length);
  if (!root) fail('no root element', 0);
  return root;
}

/** Every descendant element with the given name, in document order. */
export function findAll(el: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of el.children) {
    if (c.name === name) out.push(c);
    out.push(...findAll(c, name));
  }
  return out;
}
