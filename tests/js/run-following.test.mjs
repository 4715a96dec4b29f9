// Following the run list: the defaults a link or the log directory gives, runs that leave, come
// back or move, and the poll's checks.
import { test } from "node:test";
import assert from "node:assert/strict";

import { runText } from "../../plugin_static/format.js";
import { createRunFollower, defaultsPatch } from "../../plugin_static/run-following.js";
import { createCheckTimes } from "../../plugin_static/status-line.js";
import { DEFAULT_RUN_LIMIT, createStore, initialState, readPresets } from "../../plugin_static/state.js";

/** A run list as data-source.js gives it: run → tags. */
function fakeSource(runTags) {
  const source = {
    runTags: () => ({ ...runTags }),
    allRuns: () => Object.keys(runTags).sort(),
    allTags: () => [...new Set(Object.values(runTags).flat())].sort(),
    hasRun: (run) => Object.hasOwn(runTags, run),
    runsWithTag: (tag) => source.allRuns().filter((run) => runTags[run].includes(tag)),
  };
  return source;
}

const at = new Date(Date.UTC(2026, 0, 1, 14, 5, 0));

test("a link's runs and choices are the first load's selection; runs it names that are not here are waited for", () => {
  const source = fakeSource({ a: ["val"], b: ["val"], c: ["train"] });
  const presets = readPresets("?run=a&run=gone&run=b&baseline=b&step=3&view=pivot&sort=recall:desc&sort_run=a&matrix_step=1");
  const away = new Map();
  const { patch, note, userChoseRuns, sortChosen } = defaultsPatch({ state: initialState(), presets, source, away, firstLoad: true, userChoseRuns: true, now: () => at });
  assert.deepEqual(patch.selectedRuns, ["a", "b"]);
  assert.deepEqual(patch.baselines, ["b"]);
  assert.equal(patch.tag, "val"); // the tag most of the link's runs have
  assert.equal(patch.tableStep, 3);
  assert.equal(patch.view, "pivot");
  assert.equal(patch.matrix.step, 1);
  assert.equal(patch.imbalance.step, 3); // no step of its own: the table's
  assert.deepEqual(patch.sort, { column: "recall", run: "a", direction: "desc" });
  assert.equal(sortChosen, true);
  assert.equal(userChoseRuns, true);
  assert.equal(note, null); // the report's message says which runs are waited for (awayLines)
  assert.deepEqual([...away], [["gone", { fromLink: true, baseline: false, index: 1, since: at }]]);
});

test("a run the link names that the first run list lacks is selected in its place when it appears", () => {
  // TensorBoard lists the runs of a log directory as it loads them: the link's "b" comes a moment later.
  const presets = readPresets("?run=a&run=b&run=c&baseline=b");
  const away = new Map();
  const first = defaultsPatch({ state: initialState(), presets, source: fakeSource({ a: ["val"], c: ["val"] }), away, firstLoad: true, userChoseRuns: true });
  assert.deepEqual(first.patch.selectedRuns, ["a", "c"]);
  assert.deepEqual(first.patch.baselines, []);
  const state = { ...initialState(), ...first.patch };
  const waiting = defaultsPatch({ state, presets, source: fakeSource({ a: ["val"], c: ["val"], d: ["val"] }), away, firstLoad: false, userChoseRuns: true });
  assert.deepEqual(waiting.patch.selectedRuns, ["a", "c"]); // still waiting; a run the link does not name stays out
  assert.equal(away.get("b").fromLink, true);
  const later = defaultsPatch({ state, presets, source: fakeSource({ a: ["val"], b: ["val"], c: ["val"], d: ["val"] }), away, firstLoad: false, userChoseRuns: true });
  assert.deepEqual(later.patch, { tag: "val", selectedRuns: ["a", "b", "c"], baselines: ["b"] });
  assert.equal(away.size, 0);
});

test("a link none of whose runs is listed yet shows the first runs until its own appear, then those", () => {
  const presets = readPresets("?run=late");
  const away = new Map();
  const first = defaultsPatch({ state: initialState(), presets, source: fakeSource({ a: ["val"], b: ["val"] }), away, firstLoad: true, userChoseRuns: true });
  assert.deepEqual(first.patch.selectedRuns, ["a", "b"]);
  assert.equal(first.userChoseRuns, false);
  assert.equal(first.note, `The link names runs not in this log directory yet (${runText("late")}); showing the first runs until one appears.`);
  const state = { ...initialState(), ...first.patch };
  const later = defaultsPatch({ state, presets, source: fakeSource({ a: ["val"], b: ["val"], late: ["other"] }), away, firstLoad: false, userChoseRuns: false });
  assert.deepEqual(later.patch, { tag: "other", selectedRuns: ["late"], baselines: [] }); // its own tag
  assert.equal(later.userChoseRuns, true);
  assert.equal(later.note, ""); // the note about the first runs goes
});

test("a link none of whose runs is here shows the tag's first runs, and says so", () => {
  const runs = Object.fromEntries(Array.from({ length: DEFAULT_RUN_LIMIT + 2 }, (_, index) => [`run${String(index).padStart(2, "0")}`, ["val"]]));
  const source = fakeSource(runs);
  const result = defaultsPatch({ state: initialState(), presets: readPresets("?run=x"), source, away: new Map(), firstLoad: true, userChoseRuns: true });
  assert.deepEqual(result.patch.selectedRuns, source.allRuns().slice(0, DEFAULT_RUN_LIMIT));
  assert.equal(result.userChoseRuns, false);
  assert.equal(result.sortChosen, false);
  assert.equal(result.note, `The link names runs not in this log directory yet (${runText("x")}); showing the first runs until one appears.`);
  // Before any run is written nothing is said: the presets wait for the first runs.
  const empty = defaultsPatch({ state: initialState(), presets: readPresets("?run=x"), source: fakeSource({}), away: new Map(), firstLoad: true, userChoseRuns: true });
  assert.equal(empty.note, null);
  assert.deepEqual(empty.patch.selectedRuns, []);
});

test("a selected run that leaves is set aside with the time it left, and taken back in its place", () => {
  const state = { ...initialState(), tag: "val", selectedRuns: ["a", "b"], baselines: ["a"] };
  const away = new Map();
  const gone = defaultsPatch({ state, presets: readPresets(""), source: fakeSource({ b: ["val"] }), away, firstLoad: false, userChoseRuns: true, now: () => at });
  assert.deepEqual(gone.patch, { tag: "val", selectedRuns: ["b"], baselines: [] }); // later loads leave the other choices alone
  assert.deepEqual([...away], [["a", { baseline: true, index: 0, since: at }]]);
  assert.equal(gone.note, null);
  const back = defaultsPatch({ state: { ...state, ...gone.patch }, presets: readPresets(""), source: fakeSource({ a: ["val"], b: ["val"] }), away, firstLoad: false, userChoseRuns: true });
  assert.deepEqual(back.patch, { tag: "val", selectedRuns: ["a", "b"], baselines: ["a"] });
  assert.equal(away.size, 0);
});

test("a selected run found under a new name takes its place, and the note says so", () => {
  const state = { ...initialState(), tag: "val", selectedRuns: ["a", "b"], baselines: ["b"] };
  const result = defaultsPatch({ state, presets: readPresets(""), source: fakeSource({ a: ["val"], b2: ["val"] }), away: new Map(), renames: new Map([["b", "b2"]]), firstLoad: false, userChoseRuns: true });
  assert.deepEqual(result.patch.selectedRuns, ["a", "b2"]);
  assert.deepEqual(result.patch.baselines, ["b2"]);
  assert.match(result.note, /b2/);
});

test("the poll redraws on new steps, keeps the page on a failed check, and takes in a changed run list", async () => {
  let runTags = { a: ["val"] };
  let answer = "same"; // what the next check gets
  const calls = [];
  const source = {
    ...fakeSource(runTags),
    runTags: () => ({ ...runTags }),
    allRuns: () => Object.keys(runTags).sort(),
    allTags: () => [...new Set(Object.values(runTags).flat())].sort(),
    hasRun: (run) => Object.hasOwn(runTags, run),
    runsWithTag: (tag) => Object.keys(runTags).sort().filter((run) => runTags[run].includes(tag)),
    listError: () => (answer === "fail" ? "HTTP 503" : null),
    async loadRunList() {
      if (answer === "new run") runTags = { ...runTags, b: ["val"] };
      return answer === "new run";
    },
    async refreshSteps(tag, runs, classesOf) {
      calls.push(["steps", tag, runs, classesOf("a")]);
      return answer === "new steps";
    },
    async renamedRuns() {
      return new Map();
    },
  };
  const store = createStore(initialState());
  const checks = createCheckTimes(() => at);
  const notes = [];
  const follower = createRunFollower({
    store, source, presets: readPresets(""), away: new Map(), checks,
    classesOf: () => ["x"],
    showNote: (text) => notes.push(text),
    onSortChosen: () => calls.push(["sort"]),
    refresh: async () => calls.push(["refresh"]),
    showStatus: () => calls.push(["status"]),
  });
  await follower.checkRunList();
  follower.applyDefaults();
  assert.deepEqual(store.get().selectedRuns, ["a"]);
  assert.equal(store.get().tag, "val");

  await follower.poll();
  assert.deepEqual(calls.splice(0), [["steps", "val", ["a"], ["x"]], ["status"]]); // nothing new
  answer = "new steps";
  await follower.poll();
  assert.deepEqual(calls.splice(0), [["steps", "val", ["a"], ["x"]], ["refresh"]]);
  answer = "fail";
  await follower.poll();
  assert.deepEqual(calls.splice(0), [["status"]]); // the page stays as it is
  assert.equal(checks.times().failed, at);
  answer = "new run";
  await follower.poll();
  assert.deepEqual(calls.splice(0), []); // redrawn through the store
  assert.deepEqual(store.get().selectedRuns, ["a"]); // the user's selection is kept: only new runs are offered
  assert.deepEqual(notes, []);
});
