// Unit tests of plugin_static/state.js: the store, presets, step resolution,
// which changes only redraw the table, and the filter's debounce.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  TABLE_ONLY_KEYS,
  changedKeys,
  createStore,
  debounce,
  dropAwayBaselines,
  followRunList,
  initialState,
  onlyTableChanged,
  readPresets,
  resolveStep,
  selectionSearch,
  startPolling,
  unionSteps,
} from "../../plugin_static/state.js";

test("the store passes the new and the previous state to listeners", () => {
  const store = createStore(initialState());
  const seen = [];
  const unsubscribe = store.subscribe((state, previous) => seen.push([state, previous]));
  const first = store.get();
  store.set({ classFilter: "cat" });
  store.merge("matrix", { normalize: "true" });
  assert.equal(seen.length, 2);
  assert.equal(seen[0][1], first);
  assert.equal(seen[0][0].classFilter, "cat");
  assert.equal(seen[1][0].matrix.normalize, "true");
  assert.equal(seen[1][0].matrix.colour, "row");
  unsubscribe();
  store.set({ classFilter: "" });
  assert.equal(seen.length, 2);
});

test("filter, sort and support threshold changes only redraw the table", () => {
  assert.deepEqual(TABLE_ONLY_KEYS, ["classFilter", "sort", "supportThreshold"]);
  const state = initialState();
  assert.equal(state.supportThreshold, 30);
  assert.equal(onlyTableChanged(state, { ...state, classFilter: "a" }), true);
  assert.equal(onlyTableChanged(state, { ...state, sort: { column: "name", run: null, direction: "asc" }, supportThreshold: 5 }), true);
  assert.equal(onlyTableChanged(state, { ...state }), true);
  assert.equal(onlyTableChanged(state, { ...state, classFilter: "a", tableStep: 3 }), false);
  assert.equal(onlyTableChanged(state, { ...state, matrix: { ...state.matrix } }), false);
  assert.deepEqual(changedKeys({ a: 1, b: [1] }, { a: 1, b: [1], c: 2 }), ["b", "c"]);
  assert.deepEqual(changedKeys({ a: Number.NaN }, { a: Number.NaN }), []);
});

test("debounce calls once, with the last arguments, after a quiet pause", () => {
  const pending = new Map();
  let clock = 0;
  let next = 1;
  const timers = {
    setTimeout(callback, delay) {
      pending.set(next, { callback, at: clock + delay });
      return next++;
    },
    clearTimeout(id) {
      pending.delete(id);
    },
  };
  const advance = (ms) => {
    clock += ms;
    for (const [id, { callback, at }] of [...pending]) {
      if (at <= clock) {
        pending.delete(id);
        callback();
      }
    }
  };
  const calls = [];
  const typed = debounce((value) => calls.push(value), 150, timers);
  typed("c");
  advance(100);
  typed("ca");
  advance(100);
  typed("cat");
  assert.equal(typed.pending(), true);
  advance(149);
  assert.deepEqual(calls, []);
  advance(1);
  assert.deepEqual(calls, ["cat"]);
  assert.equal(typed.pending(), false);
  typed("dog");
  typed.cancel();
  advance(500);
  assert.deepEqual(calls, ["cat"]);
});

test("presets from the iframe URL", () => {
  const presets = readPresets("?name=imbalance&runs=a,b&baseline=b&tag=t&step=3&poll=0&min_support=50&normalize=true");
  assert.deepEqual(presets.runs, ["a", "b"]);
  assert.equal(presets.baseline, "b");
  assert.equal(presets.step, 3);
  assert.equal(presets.pollSeconds, 0);
  assert.equal(presets.supportThreshold, 50);
  assert.equal(presets.normalize, "true");
  assert.deepEqual(readPresets("?run=a,1&run=b").runs, ["a,1", "b"]);
  const defaults = readPresets("");
  assert.equal(defaults.runs, null);
  assert.equal(defaults.pollSeconds, 5);
  assert.equal(defaults.supportThreshold, 30);
  assert.equal(readPresets("?min_support=-2").supportThreshold, 30);
  assert.equal(readPresets("?normalize=bogus").normalize, null); // an old or mistyped link: the default (counts)
  assert.equal(defaults.normalize, null);
});

test("the curves panel's class round-trips by name, and is left out when not chosen", () => {
  const selection = { runs: ["a"], tag: "t", baseline: null, step: null, view: "table", metric: "recall" };
  const search = selectionSearch("?name=imbalance&curve_class=old", { ...selection, curveClass: "<img src=x>, & co" });
  assert.equal(readPresets(search).curveClass, "<img src=x>, & co");
  assert.equal(new URLSearchParams(selectionSearch(search, { ...selection, curveClass: null })).has("curve_class"), false);
  assert.equal(readPresets("").curveClass, null);
  assert.equal(initialState().curveClass, null);
});

test("the support mark, the matrix's run and its normalisation round-trip, the defaults left out", () => {
  const selection = { runs: ["a", "b"], tag: "t", baseline: null, step: null, view: "table", metric: "recall" };
  const search = selectionSearch("?name=imbalance&min_support=50&normalize=true", {
    ...selection, supportThreshold: 100, matrixRun: "b", normalize: "pred",
  });
  const presets = readPresets(search);
  assert.equal(presets.supportThreshold, 100);
  assert.equal(presets.matrixRun, "b");
  assert.equal(presets.normalize, "pred");
  const defaults = new URLSearchParams(selectionSearch(search, {
    ...selection, supportThreshold: 30, matrixRun: null, normalize: "none",
  }));
  assert.deepEqual(["min_support", "matrix_run", "normalize"].map((key) => defaults.has(key)), [false, false, false]);
  assert.equal(new URLSearchParams(selectionSearch(search, selection)).get("min_support"), "100"); // not given: kept
});

test("each view's step and settings, the class filter and the sort round-trip; defaults are left out", () => {
  const selection = { runs: ["a", "b"], tag: "t", baseline: null, step: 1, view: "table", metric: "recall" };
  const settings = {
    matrixStep: 4, imbalanceStep: null, colour: "log", imbalanceRun: "b, c", imbalanceScale: "log",
    imbalanceOrder: "ratio", trendsMetric: "f1", classFilter: "#1 & co", sort: { column: "recall", run: "a&b", direction: "desc" },
  };
  const presets = readPresets(selectionSearch("?name=imbalance", { ...selection, ...settings }));
  assert.equal(presets.step, 1); // the table's
  assert.equal(presets.matrixStep, 4);
  assert.equal(presets.imbalanceStep, null); // the latest, not the table's step
  assert.deepEqual(
    [presets.colour, presets.imbalanceRun, presets.imbalanceScale, presets.imbalanceOrder, presets.trendsMetric, presets.classFilter],
    ["log", "b, c", "log", "ratio", "f1", "#1 & co"],
  );
  assert.deepEqual(presets.sort, settings.sort);
  // a view at the table's step, and every default: nothing written, the views follow `step`
  const defaults = new URLSearchParams(selectionSearch("?name=imbalance&colour=log&sort=name:asc", {
    ...selection, matrixStep: 1, imbalanceStep: 1, colour: "row", imbalanceRun: null, imbalanceScale: "linear",
    imbalanceOrder: "support", trendsMetric: "recall", classFilter: "", sort: null,
  }));
  const keys = ["matrix_step", "imbalance_step", "colour", "imbalance_run", "imbalance_scale", "imbalance_order", "trends", "filter", "sort", "sort_run"];
  assert.deepEqual(keys.filter((key) => defaults.has(key)), []);
  const followed = readPresets("?" + defaults.toString());
  assert.deepEqual([followed.matrixStep, followed.imbalanceStep, followed.sort], [undefined, undefined, null]);
  // class order, chosen: kept (above 1000 classes the table starts worst recall first)
  assert.deepEqual(readPresets(selectionSearch("", { ...selection, sort: { column: "index", run: null, direction: "asc" } })).sort,
    { column: "index", run: null, direction: "asc" });
  // hand-written nonsense falls back to the defaults
  const odd = readPresets("?colour=purple&imbalance_scale=cubic&trends=auc&sort=recall:sideways&matrix_step=x");
  assert.deepEqual([odd.colour, odd.imbalanceScale, odd.trendsMetric, odd.sort, odd.matrixStep], [null, null, null, null, undefined]);
  // the table following the latest step, the matrix at step 2: written as matrix_step=2; the other way round as "latest"
  assert.equal(new URLSearchParams(selectionSearch("", { ...selection, step: null, matrixStep: 2 })).get("matrix_step"), "2");
  assert.equal(new URLSearchParams(selectionSearch("", { ...selection, step: 3, matrixStep: null })).get("matrix_step"), "latest");
});

test("the table's column set round-trips through the URL, the default left out", () => {
  const selection = { runs: ["a"], tag: "t", baseline: null, step: null, view: "table", metric: "recall" };
  assert.equal(initialState().tableColumns, "decision");
  assert.equal(readPresets("").columns, "decision");
  assert.equal(readPresets("?columns=nope").columns, "decision");
  const search = selectionSearch("?name=imbalance&columns=old", { ...selection, columns: "ranking" });
  assert.equal(new URLSearchParams(search).get("columns"), "ranking");
  assert.equal(readPresets(search).columns, "ranking");
  assert.equal(new URLSearchParams(selectionSearch(search, { ...selection, columns: "decision" })).has("columns"), false);
  assert.equal(new URLSearchParams(selectionSearch(search, selection)).has("columns"), false);
});

test("steps: the latest, or the last one not after the wanted one", () => {
  assert.equal(resolveStep([0, 2, 4], null), 4);
  assert.equal(resolveStep([0, 2, 4], 3), 2);
  assert.equal(resolveStep([2, 4], 1), 2);
  assert.equal(resolveStep([], 1), null);
  assert.equal(resolveStep(undefined, null), null);
  assert.deepEqual(unionSteps([[3, 1], [2, 3], undefined]), [1, 2, 3]);
});

test("the selection round-trips through the URL and keeps other parameters", () => {
  const selection = { runs: ["a", "b/validation_imbalance"], tag: "t&x", baseline: "b/validation_imbalance", step: 3, view: "pivot", metric: "f1" };
  const search = selectionSearch("?name=imbalance&poll=0&min_support=50&runs=old&tag=old", selection);
  const params = new URLSearchParams(search);
  assert.equal(params.get("name"), "imbalance");
  assert.equal(params.get("poll"), "0");
  assert.equal(params.get("min_support"), "50");
  const presets = readPresets(search);
  assert.deepEqual(presets.runs, selection.runs);
  assert.equal(presets.tag, "t&x");
  assert.equal(presets.baseline, selection.baseline);
  assert.equal(presets.step, 3);
  assert.equal(presets.view, "pivot");
  assert.equal(presets.metric, "f1");
  assert.equal(presets.supportThreshold, 50);
  // Names with commas use repeated run=; defaults are left out.
  const commas = selectionSearch("?name=imbalance&run=x", { runs: ["a,1", "b"], tag: null, baseline: null, step: null, view: "table", metric: "recall" });
  assert.equal(commas, "?name=imbalance&run=a%2C1&run=b");
  assert.deepEqual(readPresets(commas).runs, ["a,1", "b"]);
  // So do names with spaces at an edge, which runs= would lose (a hand-written `runs=a, b` is trimmed).
  const spaced = selectionSearch("", { runs: [" baseline", "weights ", "over sampling"], tag: null, baseline: " baseline",
    step: null, view: "table", metric: "recall" });
  assert.deepEqual(readPresets(spaced).runs, [" baseline", "weights ", "over sampling"]);
  assert.equal(readPresets(spaced).baseline, " baseline");
  assert.deepEqual(readPresets(selectionSearch("", { runs: ["a b", "c"], tag: null, baseline: null, step: null,
    view: "table", metric: "recall" })).runs, ["a b", "c"]);
  assert.deepEqual(readPresets("?runs=a, b").runs, ["a", "b"]);
  const back = readPresets(commas);
  assert.equal(back.tag, null);
  assert.equal(back.step, null);
  assert.equal(back.view, "table");
  assert.equal(back.metric, "recall");
  // A link with runs but no tag, view or metric.
  const link = readPresets("?name=imbalance&runs=a,b&view=pivot&metric=precision");
  assert.equal(link.tag, null);
  assert.equal(link.view, "pivot");
  assert.equal(link.metric, "precision");
  assert.equal(readPresets("?view=nope&metric=nope").view, "table");
  assert.equal(readPresets("?view=nope&metric=nope").metric, "recall");
});

test("one baseline per class set round-trips through the URL as repeated baseline=", () => {
  const baselines = ["cancer/baseline", "digits/class,weights"];
  const search = selectionSearch("?name=imbalance", { runs: ["a"], tag: "t", baselines, step: null, view: "table", metric: "recall" });
  assert.deepEqual(new URLSearchParams(search).getAll("baseline"), baselines);
  const presets = readPresets(search);
  assert.deepEqual(presets.baselines, baselines);
  assert.equal(presets.baseline, "cancer/baseline"); // the first, as a single-baseline link reads it
  // An old link with one baseline still reads.
  assert.deepEqual(readPresets("?baseline=x").baselines, ["x"]);
  assert.deepEqual(readPresets("").baselines, []);
  assert.deepEqual(initialState().baselines, []);
  assert.equal(initialState().trends.classSet, 0);
});

test("a selected run that leaves the log directory is set aside and comes back selected, as baseline too", () => {
  const away = new Map();
  let present = new Set(["b", "c"]);
  const has = (run) => present.has(run);
  let state = followRunList({ selectedRuns: ["base", "b", "gone"], baselines: ["base"] }, away, has);
  assert.deepEqual(state, { selectedRuns: ["b"], baselines: [] });
  assert.deepEqual([...away], [["base", { baseline: true, index: 0 }], ["gone", { baseline: false, index: 2 }]]);
  // the user meanwhile chose c as a baseline; then base is logged again, in its place
  present = new Set(["b", "c", "base"]);
  state = followRunList({ selectedRuns: [...state.selectedRuns, "c"], baselines: ["c"] }, away, has);
  assert.deepEqual(state, { selectedRuns: ["base", "b", "c"], baselines: ["base", "c"] });
  assert.deepEqual([...away], [["gone", { baseline: false, index: 2 }]]);
  // nothing changes while nothing comes back
  assert.deepEqual(followRunList(state, away, has), state);
});

test("a default baseline (the first run, none chosen) that leaves and comes back is first, so the baseline, again", () => {
  const away = new Map();
  let present = new Set(["exp_b", "exp_c"]);
  const has = (run) => present.has(run);
  let state = followRunList({ selectedRuns: ["exp_a", "exp_b", "exp_c"], baselines: [] }, away, has);
  assert.deepEqual(state.selectedRuns, ["exp_b", "exp_c"]);
  present = new Set(["exp_a", "exp_b", "exp_c"]);
  state = followRunList(state, away, has);
  assert.deepEqual(state, { selectedRuns: ["exp_a", "exp_b", "exp_c"], baselines: [] });
  // two back at once, around a run removed meanwhile: each near its old place
  present = new Set(["exp_b"]);
  state = followRunList(state, away, has);
  present = new Set(["exp_a", "exp_b", "exp_c"]);
  assert.deepEqual(followRunList(state, away, has).selectedRuns, ["exp_a", "exp_b", "exp_c"]);
});

test("a baseline chosen while a run is away: the run comes back in its place, not as baseline", () => {
  const away = new Map();
  let present = new Set(["a", "b", "d"]);
  const has = (run) => present.has(run);
  let state = followRunList({ selectedRuns: ["a", "b", "c", "d"], baselines: ["c"] }, away, has); // c leaves
  dropAwayBaselines(away); // the user picks b
  state = { ...state, baselines: ["b"] };
  present = new Set(["a", "b", "c", "d"]);
  assert.deepEqual(followRunList(state, away, has), { selectedRuns: ["a", "b", "c", "d"], baselines: ["b"] });
});

test("runs that leave at different polls and come back at one take their own places", () => {
  const away = new Map();
  let present = new Set(["b", "c", "d"]);
  const has = (run) => present.has(run);
  let state = followRunList({ selectedRuns: ["a", "b", "c", "d"], baselines: [] }, away, has);
  present = new Set(["b", "d"]);
  state = followRunList(state, away, has);
  assert.deepEqual(state.selectedRuns, ["b", "d"]);
  present = new Set(["a", "b", "c", "d"]);
  assert.deepEqual(followRunList(state, away, has).selectedRuns, ["a", "b", "c", "d"]); // was [a, c, b, d]
});

function fakePage() {
  const listeners = new Set();
  return {
    hidden: false,
    addEventListener: (type, listener) => type === "visibilitychange" && listeners.add(listener),
    removeEventListener: (type, listener) => listeners.delete(listener),
    show() {
      this.hidden = false;
      for (const listener of listeners) listener();
    },
    listeners,
  };
}

test("polling skips a hidden page, checks at once when it is shown again, and stops", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const page = fakePage();
  let checks = 0;
  const stop = startPolling(async () => { checks += 1; }, 5, page);
  t.mock.timers.tick(5000);
  await Promise.resolve();
  assert.equal(checks, 1);
  page.hidden = true;
  t.mock.timers.tick(5000);
  t.mock.timers.tick(5000);
  await Promise.resolve();
  assert.equal(checks, 1); // hidden: not checked
  t.mock.timers.tick(2000);
  page.show(); // before: the status line kept the old check's time until the next tick, up to 5 s later
  await Promise.resolve();
  assert.equal(checks, 2);
  t.mock.timers.tick(4999);
  await Promise.resolve();
  assert.equal(checks, 2); // the next check comes a whole period after the one on showing
  t.mock.timers.tick(1);
  await Promise.resolve();
  assert.equal(checks, 3);
  stop();
  assert.equal(page.listeners.size, 0);
  t.mock.timers.tick(60000);
  page.show();
  await Promise.resolve();
  assert.equal(checks, 3);
});

test("a check under way is not doubled by the page being shown", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const page = fakePage();
  let finish;
  let checks = 0;
  const stop = startPolling(() => { checks += 1; return new Promise((resolve) => { finish = resolve; }); }, 5, page);
  t.mock.timers.tick(5000);
  page.show();
  page.show();
  assert.equal(checks, 1);
  finish();
  await new Promise((resolve) => setImmediate(resolve));
  t.mock.timers.tick(5000);
  assert.equal(checks, 2);
  stop();
});
