// A selected run found under a new name: told by its steps and their wall times, taken in its place.
import { test } from "node:test";
import assert from "node:assert/strict";

import { followRenames, holdsSteps } from "../../plugin_static/renamed-runs.js";
import { followRunList } from "../../plugin_static/state.js";

test("a run holds the steps of one that left when each is there at the same wall time", () => {
  const logged = new Map([[0, 100.25], [1, 160.5]]);
  assert.equal(holdsSteps(logged, { steps: [0, 1], wall_times: [100.25, 160.5] }), true);
  assert.equal(holdsSteps(logged, { steps: [0, 1, 2], wall_times: [100.25, 160.5, 220.75] }), true); // written on under its new name
  assert.equal(holdsSteps(logged, { steps: [0, 1], wall_times: [900.25, 960.5] }), false); // logged anew: other times
  assert.equal(holdsSteps(logged, { steps: [0], wall_times: [100.25] }), false); // a step missing
  assert.equal(holdsSteps(logged, { steps: [0, 1] }), false); // no wall times to compare
  assert.equal(holdsSteps(new Map(), { steps: [0], wall_times: [100.25] }), false); // nothing seen: nothing to tell it by
  assert.equal(holdsSteps(undefined, { steps: [0], wall_times: [100.25] }), false);
  assert.equal(holdsSteps(logged, null), false); // its series could not be read
});

test("a run renamed in the same check takes the old name's place, as baseline too", () => {
  const away = new Map();
  const state = followRenames({ selectedRuns: ["base", "other", "third"], baselines: ["other"] }, away, new Map([["other", "other_v2"]]));
  assert.deepEqual(state, { selectedRuns: ["base", "other_v2", "third"], baselines: ["other_v2"] });
  const listed = new Set(["base", "other_v2", "third"]);
  assert.deepEqual(followRunList(state, away, (run) => listed.has(run)), state);
  assert.equal(away.size, 0);
});

test("a run set aside and found under a new name at a later check is selected again in its place, as baseline", () => {
  const away = new Map();
  let listed = new Set(["base", "third"]);
  let state = followRunList({ selectedRuns: ["base", "other", "third"], baselines: ["other"] }, away, (run) => listed.has(run));
  assert.deepEqual(state, { selectedRuns: ["base", "third"], baselines: [] });
  away.set("other", { ...away.get("other"), since: new Date(0) });
  listed = new Set(["base", "other_v2", "third"]);
  state = followRunList(followRenames(state, away, new Map([["other", "other_v2"]])), away, (run) => listed.has(run));
  assert.deepEqual(state, { selectedRuns: ["base", "other_v2", "third"], baselines: ["other_v2"] });
  assert.equal(away.size, 0);
  // The user had selected the new name already: once in the selection.
  assert.deepEqual(followRenames({ selectedRuns: ["a", "a2"], baselines: [] }, new Map(), new Map([["a", "a2"]])).selectedRuns, ["a2"]);
});

test("followRunList keeps what else an entry of a run set aside holds (the time it left)", () => {
  const away = new Map();
  followRunList({ selectedRuns: ["a", "b"], baselines: [] }, away, (run) => run === "b");
  const since = new Date(5);
  away.set("a", { ...away.get("a"), since });
  followRunList({ selectedRuns: ["b"], baselines: [] }, away, (run) => run === "b");
  assert.deepEqual(away.get("a"), { baseline: false, index: 0, since });
});

test("the data source knows a run that left by its steps when it comes back under a new name", async () => {
  const { createDataSource } = await import("../../plugin_static/data-source.js");
  const walls = { base: [100.5, 101.5], other: [200.25, 201.25], other_v2: [200.25, 201.25], rerun: [300.5, 301.5] };
  let listed = { base: ["cm"], other: ["cm"] };
  const requests = [];
  const api = {
    runs: async () => structuredClone(listed),
    series: async (run, tag, classes) => {
      requests.push([run, classes]);
      return { steps: [0, 1], wall_times: walls[run].slice(), skipped_steps: [] };
    },
    forgetRun: () => {},
  };
  const source = createDataSource(api);
  await source.loadRunList();
  await source.refreshSteps("cm", ["base", "other"], null); // the page's poll: when each step was logged
  listed = { base: ["cm"], other_v2: ["cm"], rerun: ["cm"] };
  assert.equal(await source.loadRunList(), true);
  requests.length = 0;
  const renames = await source.renamedRuns("cm", ["other"], ["other_v2", "rerun"]);
  assert.deepEqual([...renames], [["other", "other_v2"]]);
  assert.deepEqual(requests, [["other_v2", [0]]]); // one class asked for; none once every gone run is found
  assert.deepEqual([...(await source.renamedRuns("cm", ["other"], ["rerun"]))], []); // other steps' times: logged anew
  assert.deepEqual([...(await source.renamedRuns("cm", [], ["other_v2"]))], []);
  assert.equal(await source.renamedFrom("cm", "other_v2", ["never_seen"]), null);
});
