import { SaxesParser } from 'saxes';

/** An element of a parsed XML document: namespace, local name, attributes, child elements and text. */
export interface XmlElement {
  uri: string;
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

/**
 * Parses XML strictly and with namespaces (saxes: a non-validating, conformant XML 1.0 parser);
 * a document that is not well-formed throws.
 */
export function parseXml(xml: string): XmlElement {
  const parser = new SaxesParser({ xmlns: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  parser.on('error', (err) => {
    throw err;
  });
  parser.on('opentag', (tag) => {
    const el: XmlElement = {
      uri: tag.uri,
      name: tag.local,
      attributes: Object.fromEntries(Object.values(tag.attributes).map((a) => [a.local, a.value])),
      children: [],
      text: '',
    };
    stack[stack.length - 1]?.children.push(el);
    root ??= el;
    stack.push(el);
  });
  parser.on('text', (text) => {
    const top = stack[stack.length - 1];
    if (top) top.text += text;
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  parser.write(xml).close();
  if (!root) throw new Error('no root element');
  return root;
}
