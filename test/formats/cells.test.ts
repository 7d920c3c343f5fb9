import t from 'tap';
import { columnLetter, columnNumber } from '../../src/formats/cells.js';

t.test('column letters and numbers: the edges of each width, both ways', async (t) => {
  const known: Array<[number, string]> = [
    [1, 'A'],
    [26, 'Z'],
    [27, 'AA'],
    [52, 'AZ'],
    [53, 'BA'],
    [702, 'ZZ'],
    [703, 'AAA'],
    [16_384, 'XFD'], // Excel's last column
  ];
  for (const [n, letters] of known) {
    t.equal(columnLetter(n), letters, `${n} is ${letters}`);
    t.equal(columnNumber(letters), n, `${letters} is ${n}`);
  }
  t.equal(columnNumber('xfd'), 16_384, 'lower case reads the same');
  for (let n = 1; n <= 16_384; n++) if (columnNumber(columnLetter(n)) !== n) t.fail(`round trip of ${n}`);
  t.equal(columnLetter(0), '', 'no column before A');
});
