// Fitting the confidence calibration (seeds/calibration.json) from labelled answers: per decision
// path, isotonic regression of correctness on the path's raw score (pool adjacent violators), each
// block's share of right answers smoothed towards one half so a handful of answers never claims
// certainty. An answer is a draft only where the measured precision at its confidence is at least
// 95%: the threshold is 0.95 on the calibrated confidence, never lowered by averaging with easier
// answers. Paths listed as `fixed` (a person's own approved answer reused) keep their stated value.

export interface Labelled {
  path: string;
  raw: number;
  correct: boolean;
}
export interface CalibrationFile {
  comment?: string;
  draftThreshold: number;
  fallback?: number;
  fixed?: string[];
  /** Paths fitted together with another (path -> the family's first path): the same kind of decision, too few answers apart. */
  families?: Record<string, string>;
  /**
   * Highest probability a path may be given however well it scores: where the bench's test of
   * "right" is weaker than "can be sent as it is" (a free-text answer is right when it cites an
   * acceptable control, not when it says all that is asked).
   */
  ceilings?: Record<string, number>;
  paths: Record<string, Array<[number, number]>>;
}

const TARGET_PRECISION = 0.95;

/** Isotonic (non-decreasing) fit of correctness on raw score: steps [raw from, probability]. */
export function isotonic(points: Array<{ raw: number; correct: boolean }>): Array<[number, number]> {
  const sorted = [...points].sort((a, b) => a.raw - b.raw);
  const blocks: Array<{ from: number; right: number; n: number }> = [];
  for (const p of sorted) {
    const last = blocks[blocks.length - 1];
    // Equal raw scores cannot be told apart: they share a block.
    if (last && last.from === p.raw) {
      last.right += p.correct ? 1 : 0;
      last.n++;
    } else blocks.push({ from: p.raw, right: p.correct ? 1 : 0, n: 1 });
    // Pool while a block is less accurate than the one before it.
    while (
      blocks.length > 1 &&
      blocks[blocks.length - 1]!.right / blocks[blocks.length - 1]!.n <= blocks[blocks.length - 2]!.right / blocks[blocks.length - 2]!.n
    ) {
      const b = blocks.pop()!;
      const a = blocks[blocks.length - 1]!;
      a.right += b.right;
      a.n += b.n;
    }
  }
  // (right + 1/2) / (n + 1): a block of 10 right answers says 0.95, not 1.
  // Smoothing can undo the order between a small block and a large one: keep the steps non-decreasing.
  let floor = 0;
  return blocks.map((b) => {
    floor = Math.max(floor, round((b.right + 0.5) / (b.n + 1)));
    return [round(b.from), floor];
  });
}

const round = (x: number) => Math.round(x * 1000) / 1000;

function probability(steps: Array<[number, number]>, raw: number): number {
  let p = steps[0]?.[1] ?? 0;
  for (const [x, y] of steps) if (raw >= x) p = y;
  return Math.round(p * 100) / 100;
}

/** Fits every path seen; a path with no labelled answers keeps its steps capped at the fallback, unless it is fixed. */
export function fitCalibration(points: Labelled[], previous: CalibrationFile): CalibrationFile {
  const fixed = new Set(previous.fixed ?? []);
  const families = previous.families ?? {};
  const head = (path: string) => families[path] ?? path;
  const byHead = new Map<string, Labelled[]>();
  for (const p of points) if (p.path !== 'abstain' && !fixed.has(p.path)) (byHead.get(head(p.path)) ?? byHead.set(head(p.path), []).get(head(p.path))!).push(p);
  const paths: Record<string, Array<[number, number]>> = {};
  for (const [name, steps] of Object.entries(previous.paths)) {
    if (!byHead.has(head(name))) paths[name] = fixed.has(name) ? steps : steps.map(([x, y]) => [x, Math.min(y, previous.fallback ?? 0.5)]);
  }
  const fitted = new Map([...byHead].map(([name, ps]) => [name, isotonic(ps)]));
  const ceilings = previous.ceilings ?? {};
  for (const name of new Set([...Object.keys(previous.paths), ...points.map((p) => p.path)])) {
    const steps = fitted.get(head(name));
    const cap = ceilings[name] ?? 1;
    if (steps && name !== 'abstain') paths[name] = steps.map(([x, y]) => [x, Math.min(y, cap)]);
  }
  return {
    ...(previous.comment ? { comment: previous.comment } : {}),
    draftThreshold: TARGET_PRECISION,
    fallback: previous.fallback ?? 0.5,
    fixed: [...fixed],
    families,
    ...(previous.ceilings ? { ceilings } : {}),
    paths,
  };
}

/** The share of right answers among those at or above a confidence (for reports). */
export function precisionAbove(points: Labelled[], file: CalibrationFile, threshold: number): { right: number; n: number } {
  const scored = points
    .filter((p) => p.path !== 'abstain' && file.paths[p.path])
    .map((p) => ({ c: probability(file.paths[p.path]!, p.raw), correct: p.correct }));
  const above = scored.filter((s) => s.c >= threshold);
  return { right: above.filter((s) => s.correct).length, n: above.length };
}
