// Unit tests of plugin_static/data-source.js's polling: a run written anew under the same steps
// (its directory deleted and logged again while the page is open) drops what the page cached of it.
import assert from "node:assert/strict";
import { test } from "node:test";

import { createDataSource } from "../../plugin_static/data-source.js";

function stubApi(wallTimes) {
  const forgotten = [];
  return {
    forgotten,
    wallTimes,
    series: async () => ({ steps: [0, 1], wall_times: wallTimes.slice(), skipped_steps: [] }),
    forgetRun: (run, tag) => forgotten.push([run, tag]),
  };
}

test("a run logged anew under the same steps is forgotten and said to have changed", async () => {
  const api = stubApi([100.5, 101.5]);
  const source = createDataSource(api);
  assert.equal(await source.refreshSteps("cm", ["a"], null), true); // first seen: its steps are new
  assert.equal(await source.refreshSteps("cm", ["a"], null), false); // nothing changed
  assert.deepEqual(api.forgotten, []);
  api.wallTimes[0] = 200.25; // step 0 written again
  assert.equal(await source.refreshSteps("cm", ["a"], null), true);
  assert.deepEqual(api.forgotten, [["a", "cm"]]);
  assert.equal(await source.refreshSteps("cm", ["a"], null), false);
  assert.deepEqual(source.stepsOf("cm", "a"), [0, 1]);
});

test("the series the page first drew tell when its steps were logged", async () => {
  const api = stubApi([100.5, 101.5]);
  const source = createDataSource(api);
  await source.series("a", "cm", null); // the first render (before any poll)
  api.wallTimes[1] = 300.75; // the run is logged anew before the first poll
  assert.equal(await source.refreshSteps("cm", ["a"], null), true);
  assert.deepEqual(api.forgotten, [["a", "cm"]]);
});
