// Unit tests of plugin_static/api.js's report cache: a report asked for
// without thresholds (the latest step, when a run is first seen) answers
// the same step asked for with the route's default thresholds. At 10,000
// classes a report is megabytes: the first render must not fetch it twice.
import assert from "node:assert/strict";
import { test } from "node:test";

import { createApi } from "../../plugin_static/api.js";
import { DEFAULT_THRESHOLDS } from "../../plugin_static/long-tail.js";

function stubFetch() {
  const asked = [];
  globalThis.fetch = async (url) => {
    asked.push(new URL(url));
    return { ok: true, status: 200, json: async () => ({ step: 3, steps: [1, 3] }) };
  };
  return asked;
}

test("the latest report answers its step at the default thresholds, not at others", async () => {
  const asked = stubFetch();
  const api = createApi("http://tensorboard.test/data/plugin/imbalance/");
  const latest = await api.report("run", "tag");
  assert.equal(await api.report("run", "tag", 3, { ...DEFAULT_THRESHOLDS }), latest);
  assert.equal(await api.report("run", "tag", 3), latest);
  assert.equal(asked.length, 1);
  await api.report("run", "tag", 3, { many: 50, few: 5 });
  await api.report("run", "tag", 3, { ...DEFAULT_THRESHOLDS, group: true });
  await api.report("run", "tag", 1, { ...DEFAULT_THRESHOLDS });
  assert.equal(asked.length, 4);
  assert.deepEqual(
    asked.map((url) => [url.searchParams.get("step"), url.searchParams.get("many"), url.searchParams.get("group")]),
    [[null, null, null], ["3", "50", null], ["3", "100", "1"], ["1", "100", null]],
  );
});

test("a view of many runs finds every report it drew when it is drawn again", async () => {
  const asked = stubFetch();
  const api = createApi("http://tensorboard.test/data/plugin/imbalance/");
  const runs = Array.from({ length: 40 }, (_, index) => `run${index}`);
  const drawView = async () => {
    for (const run of runs) {
      await api.report(run, "tag", 3);
      await api.report(run, "tag", 1);
      await api.compare(run, "tag", 3, "run0", 3);
      await api.curves(run, "tag", 3, 0);
    }
  };
  await drawView(); // 160 entries: more than the 64 kept for a few runs
  const first = asked.length;
  await drawView();
  assert.ok(asked.length >= 2 * first - 10, "without keepFor the cache evicts its own entries");
  api.keepFor(runs.length);
  await drawView(); // fills the larger cache
  const filled = asked.length;
  await drawView();
  assert.equal(asked.length, filled, "a redraw of the same view fetches nothing");
  api.keepFor(2); // fewer runs selected: the cache shrinks back to its floor (64 entries) at the next entry
  await api.report("another", "tag", 3);
  const before = asked.length;
  for (const run of [...runs].reverse()) await api.report(run, "tag", 3);
  assert.ok(asked.length - before >= 20, `only ${asked.length - before} of 40 reports fetched again: the cache kept its size`);
});
