// Unit tests of plugin_static/data-source.js's polling: a run written anew under the same steps
// (its directory deleted and logged again while the page is open) drops what the page cached of it.
import assert from "node:assert/strict";
import { test } from "node:test";

import { createDataSource } from "../../plugin_static/data-source.js";
import { shownRun } from "../../plugin_static/format.js";

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

test("a run that leaves the run list is forgotten: back under its name, its steps are read anew", async () => {
  const api = stubApi([100.5, 101.5]);
  let listed = { a: ["cm"], b: ["cm"] };
  api.runs = async () => listed;
  api.report = async () => ({ steps: [0, 1, 2, 3, 4, 5], skipped_steps: [] });
  const source = createDataSource(api);
  await source.loadRunList();
  await source.ensureSteps("cm", ["a", "b"]);
  assert.deepEqual(source.stepsOf("cm", "a"), [0, 1, 2, 3, 4, 5]);
  listed = { b: ["cm"] }; // a deleted
  assert.equal(await source.loadRunList(), true);
  assert.equal(source.stepsOf("cm", "a"), undefined);
  assert.deepEqual(source.stepsOf("cm", "b"), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(api.forgotten, [["a", "cm"]]);
  listed = { a: ["cm"], b: ["cm"] }; // a logged again, with two steps
  api.report = async () => ({ steps: [0, 1], skipped_steps: [] });
  await source.loadRunList();
  await source.ensureSteps("cm", ["a", "b"]);
  assert.deepEqual(source.stepsOf("cm", "a"), [0, 1]); // not step 5 of the run that left
});

test("a run named like an object's own property that leaves the run list is forgotten", async () => {
  // The `runs` route's JSON, parsed as the page parses it: "__proto__" is a run like any other.
  for (const name of ["__proto__", "constructor", "toString"]) {
    const api = stubApi([100.5, 101.5]);
    let listed = JSON.parse(`{"${name}": ["cm"], "b": ["cm"]}`);
    api.runs = async () => listed;
    api.report = async () => ({ steps: [0, 1], skipped_steps: [] });
    const source = createDataSource(api);
    await source.loadRunList();
    assert.deepEqual(source.allRuns(), [name, "b"].sort());
    assert.equal(source.hasRun(name), true);
    await source.ensureSteps("cm", [name, "b"]);
    listed = JSON.parse('{"b": ["cm"]}'); // the run's directory deleted
    // Its tags were looked up in the new list as Object's own properties: the list failed to load, forever.
    assert.equal(await source.loadRunList(), true);
    assert.equal(source.listError(), null, name);
    assert.deepEqual(source.allRuns(), ["b"]);
    assert.equal(source.stepsOf("cm", name), undefined);
    assert.deepEqual(api.forgotten, [[name, "cm"]]);
  }
});

test("a callback's run listed next to a run of its name without `/validation_imbalance` is shown whole", async () => {
  // `tensorboard --logdir runs` over runs/exp (log_report) and runs/exp/validation_imbalance (the callback):
  // both read "exp" in the run list, the column heads and the pickers.
  const api = stubApi([100.5]);
  let listed = { exp: ["cm"], "exp/validation_imbalance": ["cm"], "solo/validation_imbalance": ["cm"] };
  api.runs = async () => listed;
  const source = createDataSource(api);
  await source.loadRunList();
  assert.deepEqual(["exp", "exp/validation_imbalance", "solo/validation_imbalance"].map(shownRun),
    ["exp", "exp/validation_imbalance", "solo"]);
  listed = { "exp/validation_imbalance": ["cm"], "solo/validation_imbalance": ["cm"] }; // exp away: still told apart from it
  await source.loadRunList();
  assert.equal(shownRun("exp/validation_imbalance"), "exp/validation_imbalance");
});
