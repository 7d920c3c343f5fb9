import { escapeHtml } from '../mail/index.js';

// The Markdown subset of trust-page updates: paragraphs, line breaks, "- " lists, "#" headings,
// **bold**, *emphasis*, `code` and [links](https://...). Everything is escaped first and only these
// constructs become markup, so an update cannot inject HTML, scripts or other link schemes.

const SAFE_URL = /^(https?:\/\/|mailto:)[^\s]+$/i;

function inline(raw: string): string {
  // Backslash escapes (\*, \_, ...) are set aside first, so they never start markup.
  const kept: string[] = [];
  let s = escapeHtml(raw.replace(/\\([\\`*_[\]()#-])/g, (_m, c: string) => `\u0000${kept.push(c) - 1}\u0000`));
  s = s.replace(/`([^`\n]+)`/g, '<code>$1</code>');
  s = s.replace(/\*\*([^*\n]+)\*\*/g, '<strong>$1</strong>');
  s = s.replace(/(^|[^*\w])\*([^*\n]+)\*(?!\w)/g, '$1<em>$2</em>');
  s = s.replace(/(^|[^\w])_([^_\n]+)_(?!\w)/g, '$1<em>$2</em>');
  // The URL was escaped with the rest: it stays escaped inside the attribute.
  s = s.replace(/\[([^\]\n]+)\]\(([^)\s]+)\)/g, (whole, text: string, url: string) =>
    SAFE_URL.test(url) && !/^(javascript|data|vbscript):/i.test(url) ? `<a href="${url}" rel="noopener noreferrer">${text}</a>` : whole,
  );
  return s.replace(/\u0000(\d+)\u0000/g, (_m, i: string) => escapeHtml(kept[Number(i)]));
}

/** The body as HTML; `headingLevel` is the level of "#" headings (under the update's own title). */
export function renderMarkdown(body: string, headingLevel = 4): string {
  const blocks = body
    .replace(/\r\n?/g, '\n')
    .split(/\n\s*\n/)
    .map((b) => b.trim())
    .filter(Boolean);
  return blocks
    .map((b) => {
      const lines = b.split('\n');
      if (lines.every((l) => /^\s*[-*]\s+/.test(l))) return `<ul>${lines.map((l) => `<li>${inline(l.replace(/^\s*[-*]\s+/, ''))}</li>`).join('')}</ul>`;
      const h = /^#{1,6}\s+(.*)$/.exec(b);
      if (h && lines.length === 1) return `<h${headingLevel}>${inline(h[1]!)}</h${headingLevel}>`;
      return `<p>${lines.map(inline).join('<br>')}</p>`;
    })
    .join('\n');
}
