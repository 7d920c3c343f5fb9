import t from 'tap';
import { fitCalibration, isotonic, precisionAbove } from '../../../src/modules/questionnaires/calibration.js';
import { calibrationFrom } from '../../../src/modules/questionnaires/answering.js';

const pts = (...xs: Array<[number, boolean]>) => xs.map(([raw, correct]) => ({ raw, correct }));

t.test('isotonic steps never decrease and never claim certainty from a few answers', async (t) => {
  const steps = isotonic(pts([0.2, false], [0.3, true], [0.3, false], [0.5, false], [0.6, true], [0.7, true], [0.8, true], [0.9, true]));
  for (let i = 1; i < steps.length; i++) t.ok(steps[i]![1] >= steps[i - 1]![1], 'non-decreasing');
  t.ok(steps[steps.length - 1]![1] < 1, 'smoothed below 1');
  t.equal(steps[0]![0], 0.2, 'starts at the lowest raw score');
  t.same(isotonic(pts([1, true], [1, true], [1, true])), [[1, 0.875]], '3 of 3 right says 0.875, not 1');
});

t.test('fitting: families pool their answers, fixed paths keep their value, unfitted ones are capped', async (t) => {
  const points = [
    ...Array.from({ length: 19 }, () => ({ path: 'fact_state', raw: 1, correct: true })),
    ...Array.from({ length: 3 }, () => ({ path: 'fact_option', raw: 1, correct: true })),
    ...Array.from({ length: 4 }, (_, i) => ({ path: 'control_yes', raw: 0.5 + i / 10, correct: i > 1 })),
    { path: 'abstain', raw: 0, correct: true },
  ];
  const file = fitCalibration(points, {
    draftThreshold: 0.5,
    fallback: 0.5,
    fixed: ['library_exact'],
    families: { fact_option: 'fact_state' },
    paths: { library_exact: [[0, 0.97]], old_path: [[0, 0.9]] },
  });
  t.equal(file.draftThreshold, 0.95, 'the threshold is the target precision, whatever it was');
  t.same(file.paths.fact_option, file.paths.fact_state, 'a family shares its steps');
  t.same(file.paths.fact_state, [[1, 0.978]], '22 of 22 right: (22 + 1/2) / 23');
  t.same(file.paths.library_exact, [[0, 0.97]], 'fixed');
  t.same(file.paths.old_path, [[0, 0.5]], 'a path with no labelled answers is capped at the fallback');
  t.notOk(file.paths.abstain, 'abstentions are not fitted');
  const capped = fitCalibration(points, {
    draftThreshold: 0.95,
    fixed: [],
    ceilings: { fact_state: 0.9 },
    paths: {},
  });
  t.same(capped.paths.fact_state, [[1, 0.9]], 'a ceiling holds a path below the draft threshold however well it scores');
  t.same(capped.ceilings, { fact_state: 0.9 }, 'and is kept for the next fit');
  const c = calibrationFrom(file);
  t.ok(c.probability('fact_option', 1) >= 0.95, 'a fact option is a draft');
  t.ok(c.probability('control_yes', 0.5) < 0.95);
  t.same(precisionAbove(points, file, 0.95), { right: 22, n: 22 });
});
