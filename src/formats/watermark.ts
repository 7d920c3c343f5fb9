import { PDFDocument, StandardFonts, degrees, rgb } from 'pdf-lib';
import { DomainError } from '../lib/errors.js';

export const isPdf = (contentType: string, head: Buffer) => /^application\/pdf\b/i.test(contentType) || head.subarray(0, 5).toString('latin1') === '%PDF-';

/** WinAnsi (the standard fonts' encoding) cannot draw every character: keep the stamp printable. */
const printable = (s: string) => s.replace(/[^\x20-\x7e]/g, '?');

/**
 * Stamps every page with who downloaded the document and when: a diagonal mark across the page
 * and a line along the bottom edge, both visible. A PDF that cannot be parsed (or is encrypted)
 * is refused rather than served unmarked.
 */
export async function watermarkPdf(bytes: Buffer, stamp: { email: string; at: Date; organization: string }): Promise<Buffer> {
  try {
    return await stampPdf(bytes, stamp);
  } catch {
    throw new DomainError('unprocessable', 'this PDF cannot be watermarked, so it is not released under NDA; ask the organization for another copy');
  }
}

async function stampPdf(bytes: Buffer, stamp: { email: string; at: Date; organization: string }): Promise<Buffer> {
  // Encrypted PDFs are refused by load(): they could not carry a visible stamp anyway.
  const pdf = await PDFDocument.load(bytes, { updateMetadata: false });
  if (pdf.getPageCount() === 0) throw new Error('no pages');
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  const when = stamp.at.toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
  const line = printable(`Confidential - ${stamp.organization} - provided under NDA to ${stamp.email} on ${when}`);
  const big = printable(`${stamp.email}  ${when}`);
  for (const page of pdf.getPages()) {
    const { width, height } = page.getSize();
    const size = Math.max(6, Math.min(9, width / (line.length * 0.5)));
    page.drawText(line, { x: 24, y: 14, size, font, color: rgb(0.6, 0.05, 0.05), opacity: 0.9 });
    const bigSize = Math.max(10, Math.min(28, (Math.hypot(width, height) * 0.8) / (big.length * 0.55)));
    const textWidth = font.widthOfTextAtSize(big, bigSize);
    const angle = Math.atan2(height, width);
    page.drawText(big, {
      x: width / 2 - (Math.cos(angle) * textWidth) / 2,
      y: height / 2 - (Math.sin(angle) * textWidth) / 2,
      size: bigSize,
      font,
      color: rgb(0.75, 0.1, 0.1),
      opacity: 0.18,
      rotate: degrees((angle * 180) / Math.PI),
    });
  }
  pdf.setSubject(printable(`Provided under NDA to ${stamp.email} on ${when}`));
  return Buffer.from(await pdf.save());
}
