// The demo trust page: its logo (seeds/demo/logo.png, drawn as logo.svg) and a public Security
// Overview PDF written at seed time from seeds/demo/security-overview.json.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { PDFDocument } from 'pdf-lib';
import { extractText } from '../../../src/formats/text.js';
import { testApp } from '../../helpers/app.js';

const DEMO = path.resolve('seeds', 'demo');

t.test('the demo page has a logo and a Security Overview PDF', async (t) => {
  const app = await testApp(t, { config: { seedDemo: true } });

  await t.test('the logo', async (t) => {
    const svg = fs.readFileSync(path.join(DEMO, 'logo.svg'), 'utf8');
    t.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*>\s*<title>Northwind Cloud<\/title>/, 'the drawing, titled');
    const page = await app.inject({ method: 'GET', url: '/trust/demo' });
    t.match(page.body, /<a class="brand" href="\/trust\/demo"><img src="\/trust\/demo\/logo" alt="" width="32" height="32">/);
    const logo = await app.inject({ method: 'GET', url: '/trust/demo/logo' });
    t.equal(logo.statusCode, 200);
    t.equal(logo.headers['content-type'], 'image/png');
    t.same(logo.rawPayload, fs.readFileSync(path.join(DEMO, 'logo.png')));
    t.equal(logo.rawPayload.readUInt32BE(16), 128, '128 px wide');
    t.equal(logo.rawPayload.readUInt32BE(20), 128, '128 px high');
  });

  await t.test('the Security Overview: public, a PDF in our words, dated on the page', async (t) => {
    const text = JSON.parse(fs.readFileSync(path.join(DEMO, 'security-overview.json'), 'utf8')) as {
      title: string;
      description: string;
      sections: { heading: string; paragraphs: string[] }[];
    };
    const model = (await app.inject({ method: 'GET', url: '/api/v1/public/trust/demo' })).json();
    const doc = model.documents.find((d: { title: string }) => d.title === 'Security Overview');
    t.match(doc, {
      visibility: 'public',
      contentType: 'application/pdf',
      fileName: 'security-overview.pdf',
      description: text.description,
      updatedAt: /^\d{4}-\d{2}-\d{2}T/,
    });
    const page = (await app.inject({ method: 'GET', url: '/trust/demo' })).body;
    t.match(
      page,
      new RegExp(
        `>Security Overview</a> <span class="muted">\\(PDF, \\d+ KB\\)</span><p>[^<]+</p><p class="muted">Last updated <time datetime="${doc.updatedAt}">`,
      ),
    );
    const file = await app.inject({ method: 'GET', url: new URL(doc.downloadUrl).pathname });
    t.equal(file.statusCode, 200);
    t.equal(file.headers['content-type'], 'application/pdf');
    const pdf = await PDFDocument.load(file.rawPayload);
    t.equal(pdf.getTitle(), 'Security Overview: Northwind Cloud');
    t.equal(pdf.getAuthor(), 'Northwind Cloud');
    const extracted = await extractText(file.rawPayload, { fileName: 'security-overview.pdf', contentType: 'application/pdf' });
    t.equal(extracted.scanned, false, 'real text, not an image');
    const words = extracted.passages
      .map((p) => `${p.heading ?? ''} ${p.text}`)
      .join(' ')
      .replace(/\s+/g, ' ');
    for (const s of text.sections) t.ok(words.includes(s.heading), `has the section "${s.heading}"`);
    t.ok(words.includes('phishing-resistant hardware security keys'), 'the paragraphs are there');
    const found = await app.inject({ method: 'GET', url: '/trust/demo/search?q=overview' });
    t.match(found.body, /<h2 id="h-r-documents">Documents <span class="count">\(1\)<\/span><\/h2>/, 'search finds it by title');
  });
});
