// Long-tail buckets and class groups: thresholds, the bucket of a class and
// the scales of the recall-vs-training-count plot. Pure functions.

/** The report route's default thresholds (docs/http_api.md, `many` / `few`). */
export const DEFAULT_THRESHOLDS = Object.freeze({ many: 100, few: 20 });

/** The long-tail metrics of the `report` route, in display order. */
export const BUCKETS = [
  { key: "many", metric: "many_shot_recall", label: "many-shot recall" },
  { key: "medium", metric: "medium_shot_recall", label: "medium-shot recall" },
  { key: "few", metric: "few_shot_recall", label: "few-shot recall" },
];

function nonNegativeInteger(value) {
  if (value === null || value === undefined || value === "") return null;
  const number = Number(value);
  return Number.isInteger(number) && number >= 0 ? number : null;
}

/**
 * Thresholds from user input (URL or number inputs), or null when they break
 * the route's rule (non-negative integers, `few` less than `many`).
 * A missing value takes its default.
 * @param {string|number|null|undefined} many
 * @param {string|number|null|undefined} few
 * @returns {{many: number, few: number}|null}
 */
export function parseThresholds(many, few) {
  const parsedMany = many === null || many === undefined || many === "" ? DEFAULT_THRESHOLDS.many : nonNegativeInteger(many);
  const parsedFew = few === null || few === undefined || few === "" ? DEFAULT_THRESHOLDS.few : nonNegativeInteger(few);
  if (parsedMany === null || parsedFew === null || parsedFew >= parsedMany) return null;
  return { many: parsedMany, few: parsedFew };
}

/**
 * The bucket of a class with `count` training examples (as the route counts:
 * many-shot above `many`, few-shot below `few`, medium-shot in between, inclusive).
 * @param {number} count
 * @param {{many: number, few: number}} thresholds
 * @returns {"many"|"medium"|"few"}
 */
export function bucketOf(count, { many, few }) {
  if (count > many) return "many";
  if (count < few) return "few";
  return "medium";
}

/**
 * A log scale for training counts: maps `[low, high]` (counts ≥ 0; 0 is
 * drawn as if it were 0.5) onto `[start, end]`.
 * @param {number[]} counts every count to show (thresholds included)
 * @param {number} start pixel of the smallest count
 * @param {number} end pixel of the largest count
 * @returns {{map: (count: number) => number, low: number, high: number}}
 */
export function logScale(counts, start, end) {
  const clamp = (count) => Math.max(count, 0.5);
  const finite = counts.filter((count) => Number.isFinite(count)).map(clamp);
  let low = finite.length ? finite.reduce((min, count) => Math.min(min, count)) : 1;
  let high = finite.length ? finite.reduce((max, count) => Math.max(max, count)) : 10;
  if (high <= low) {
    low /= 2;
    high *= 2;
  }
  const a = Math.log10(low);
  const b = Math.log10(high);
  return { low, high, map: (count) => start + ((Math.log10(clamp(count)) - a) / (b - a)) * (end - start) };
}

/**
 * Powers of ten between `low` and `high` (tick marks of a log axis).
 * @param {number} low
 * @param {number} high
 * @returns {number[]}
 */
export function logTicks(low, high) {
  const ticks = [];
  for (let power = Math.ceil(Math.log10(low)); power <= Math.floor(Math.log10(high)); power++) ticks.push(10 ** power);
  return ticks;
}

/**
 * SVG path data drawing a circle of radius `r` around each point: thousands
 * of points as one element.
 * @param {Array<{x: number, y: number}>} points
 * @param {number} r
 * @returns {string}
 */
export function circlesPath(points, r) {
  const arcs = `a${r} ${r} 0 1 0 ${2 * r} 0a${r} ${r} 0 1 0 ${-2 * r} 0`;
  return points.map(({ x, y }) => `M${(x - r).toFixed(1)} ${y.toFixed(1)}${arcs}`).join("");
}

/**
 * The index of the point nearest (x, y) (the first of equally near ones), or
 * -1 when none is within `reach`.
 * @param {Array<{x: number, y: number}>} points
 * @param {number} x
 * @param {number} y
 * @param {number} reach
 * @returns {number}
 */
export function nearestPoint(points, x, y, reach) {
  let nearest = -1;
  let best = Infinity;
  points.forEach((point, index) => {
    const distance = (point.x - x) ** 2 + (point.y - y) ** 2;
    if (distance <= reach * reach && distance < best) {
      best = distance;
      nearest = index;
    }
  });
  return nearest;
}

/**
 * Whether a report carries training counts (so has the long-tail metrics).
 * @param {Object|null|undefined} report a `report` route response
 * @returns {boolean}
 */
export function hasTrainCounts(report) {
  return Array.isArray(report?.per_class?.train_count);
}

/**
 * Whether a report's tag was logged with class groups.
 * @param {Object|null|undefined} report
 * @returns {boolean}
 */
export function hasClassGroups(report) {
  return Boolean(report?.class_groups) && Object.keys(report.class_groups).length > 0;
}
