import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage } from 'pdf-lib';

export interface OverviewText {
  title: string;
  subtitle: string;
  description: string;
  sections: Array<{ heading: string; paragraphs: string[] }>;
}

const A4: [number, number] = [595.28, 841.89];
const MARGIN = 56;
const INK = rgb(0.106, 0.122, 0.141);
const BRAND = rgb(0.122, 0.435, 0.922);

/** The standard fonts encode WinAnsi only: typographic characters become their plain forms. */
const plain = (s: string) =>
  s
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[\u201c\u201d]/g, '"')
    .replace(/[\u2013\u2014]/g, '-')
    .replace(/[^\x20-\x7e\u00a0-\u00ff]/g, '');

function wrap(text: string, font: PDFFont, size: number, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of plain(text).split(/\s+/).filter(Boolean)) {
    const next = line ? `${line} ${word}` : word;
    if (line && font.widthOfTextAtSize(next, size) > width) {
      lines.push(line);
      line = word;
    } else {
      line = next;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/**
 * The demo's public Security Overview as a PDF, written from seeds/demo/security-overview.json;
 * title, author, subject and language are set so PDF readers name and read it properly.
 */
export async function overviewPdf(text: OverviewText, org: string, date: Date): Promise<Buffer> {
  const pdf = await PDFDocument.create();
  pdf.setTitle(`${text.title}: ${org}`, { showInWindowTitleBar: true });
  pdf.setAuthor(org);
  pdf.setSubject(text.description);
  pdf.setLanguage('en-GB');
  // A fixed producer and dates keep the file the same from one seed to the next.
  pdf.setProducer(org);
  pdf.setCreator(org);
  pdf.setCreationDate(date);
  pdf.setModificationDate(date);
  const regular = await pdf.embedFont(StandardFonts.Helvetica);
  const bold = await pdf.embedFont(StandardFonts.HelveticaBold);
  const width = A4[0] - 2 * MARGIN;

  let page: PDFPage = pdf.addPage(A4);
  let y = A4[1] - MARGIN;
  const room = (needed: number) => {
    if (y - needed >= MARGIN) return;
    page = pdf.addPage(A4);
    y = A4[1] - MARGIN;
  };
  const write = (lines: string[], font: PDFFont, size: number, color = INK, gap = 0.45) => {
    for (const l of lines) {
      room(size * 1.4);
      y -= size * 1.4;
      page.drawText(l, { x: MARGIN, y, size, font, color });
    }
    y -= size * gap;
  };

  write(wrap(text.title, bold, 26, width), bold, 26, BRAND, 0.2);
  write(wrap(text.subtitle, regular, 13, width), regular, 13);
  write(wrap(text.description, regular, 11, width), regular, 11, INK, 1.2);
  for (const s of text.sections) {
    // A heading never sits alone at the foot of a page.
    room(15 * 1.4 + 11 * 1.4 * 3);
    write(wrap(s.heading, bold, 15, width), bold, 15, BRAND, 0.3);
    for (const p of s.paragraphs) write(wrap(p, regular, 11, width), regular, 11);
    y -= 6;
  }
  const pages = pdf.getPages();
  pages.forEach((p, i) =>
    p.drawText(plain(`${org} - ${text.title} - page ${i + 1} of ${pages.length}`), { x: MARGIN, y: MARGIN / 2, size: 9, font: regular, color: INK }),
  );
  return Buffer.from(await pdf.save({ useObjectStreams: false }));
}
