/**
 * A small well-formedness check for the XML the report writes (SVG): tags
 * balance, one root element, attributes quoted, `&` only in entities, no raw
 * `<` in text. Not a full XML parser; enough to catch broken output in tests.
 */

const TAG = /<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[A-Za-z_][\w:.-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>/y;
const ENTITY = /&(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/y;

/** Checks `&` at every position in `s` starts an entity; returns the bad offset or -1. */
function badAmpersand(s: string): number {
  for (let i = s.indexOf('&'); i !== -1; i = s.indexOf('&', i + 1)) {
    ENTITY.lastIndex = i;
    if (!ENTITY.test(s)) return i;
  }
  return -1;
}

/**
 * Returns null when `xml` is well-formed by the rules above, else a message
 * saying what is wrong and where. Skips an `<?xml ...?>` declaration and comments.
 */
export function xmlProblem(xml: string): string | null {
  const stack: string[] = [];
  let roots = 0;
  let i = 0;
  const body = xml.replace(/^\s*<\?xml[^?]*\?>/, '').replace(/<!--[\s\S]*?-->/g, '');
  while (i < body.length) {
    const lt = body.indexOf('<', i);
    const text = body.slice(i, lt === -1 ? body.length : lt);
    if (badAmpersand(text) !== -1) return `bare & in text near offset ${i}`;
    if (stack.length === 0 && text.trim() !== '') return `text outside the root element near offset ${i}`;
    if (lt === -1) break;
    TAG.lastIndex = lt;
    const m = TAG.exec(body);
    if (m === null) return `malformed tag at offset ${lt}: ${body.slice(lt, lt + 40)}`;
    const [whole, closing, name, attrs, selfClosing] = m;
    if (badAmpersand(attrs) !== -1) return `bare & in attributes of <${name}>`;
    if (closing === '/') {
      if (selfClosing === '/' || attrs.trim() !== '') return `malformed closing tag </${name}>`;
      const open = stack.pop();
      if (open !== name) return `</${name}> closes <${open ?? 'nothing'}>`;
    } else {
      if (stack.length === 0) roots++;
      if (roots > 1) return `second root element <${name}>`;
      if (selfClosing !== '/') stack.push(name);
    }
    i = lt + whole.length;
  }
  if (stack.length > 0) return `unclosed <${stack[stack.length - 1]}>`;
  if (roots === 0) return 'no root element';
  return null;
}
