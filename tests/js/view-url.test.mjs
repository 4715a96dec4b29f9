// The view written into the page's URL: what it keeps, when it rewrites, the link that follows it.
import { test } from "node:test";
import assert from "node:assert/strict";

import { initialState } from "../../plugin_static/state.js";
import { createViewUrl, urlSelection } from "../../plugin_static/view-url.js";

/** A page's location and history: replaceState moves the location. */
function fakePage(search) {
  const location = { pathname: "/data/plugin/imbalance/index.html", search, hash: "#top" };
  Object.defineProperty(location, "href", { get: () => `http://host${location.pathname}${location.search}${location.hash}` });
  const calls = [];
  const history = {
    state: { kept: 1 },
    replaceState(state, title, url) {
      calls.push([state, title, url]);
      location.search = url.slice(url.indexOf("?"), url.indexOf("#"));
    },
  };
  return { location, history, calls };
}

test("the URL keeps the selection, a class group only where the runs have groups, a sort only when chosen", () => {
  const state = { ...initialState(), tag: "val", view: "pivot", grouped: true, classFilter: "ca", sort: { column: "recall", run: "a", direction: "desc" } };
  const shown = { selected: ["a", "b"], baselines: ["a"], canGroup: false, curveClass: "cat", sortChosen: false };
  const selection = urlSelection(state, shown);
  assert.deepEqual(
    { runs: selection.runs, tag: selection.tag, baselines: selection.baselines, view: selection.view, grouped: selection.grouped, curveClass: selection.curveClass },
    { runs: ["a", "b"], tag: "val", baselines: ["a"], view: "pivot", grouped: false, curveClass: "cat" },
  );
  assert.equal(selection.sort, null);
  assert.equal(selection.classFilter, "ca");
  assert.equal(selection.matrixStep, null);
  assert.equal(urlSelection(state, { ...shown, canGroup: true }).grouped, true);
  assert.deepEqual(urlSelection(state, { ...shown, sortChosen: true }).sort, { column: "recall", run: "a", direction: "desc" });
});

test("the URL keeps the runs wanted but not listed now, in their places, a baseline among them first", () => {
  const away = new Map([["late", { fromLink: true, baseline: true, index: 1 }], ["left", { baseline: false, index: 5 }]]);
  const selection = urlSelection(initialState(), { selected: ["a", "b"], away, baselines: ["a"], canGroup: false, curveClass: null, sortChosen: false });
  assert.deepEqual(selection.runs, ["a", "late", "b", "left"]);
  assert.deepEqual(selection.baselines, ["late", "a"]);
});

test("a selection is written into the URL in place of its history entry, and the link follows it", () => {
  const { location, history, calls } = fakePage("?name=imbalance&poll=2");
  const viewLink = { href: "unchanged" };
  const url = createViewUrl({ viewLink, location, history });
  url.writeTableChoices({ supportThreshold: 0, classFilter: "x", sort: null }); // nothing written yet: nothing to rewrite
  assert.deepEqual(calls, []);
  const selection = urlSelection({ ...initialState(), tag: "val" }, { selected: ["a", "b"], baselines: [], canGroup: false, curveClass: null, sortChosen: false });
  url.write(selection);
  assert.deepEqual(calls, [[{ kept: 1 }, "", "/data/plugin/imbalance/index.html?name=imbalance&poll=2&runs=a%2Cb&tag=val#top"]]);
  assert.equal(viewLink.href, "http://host/data/plugin/imbalance/index.html?name=imbalance&poll=2&runs=a%2Cb&tag=val#top");
  url.write(selection); // the same view: the URL stays
  assert.equal(calls.length, 1);
  // The table's own choices rewrite the last selection.
  url.writeTableChoices({ supportThreshold: selection.supportThreshold, classFilter: "cat", sort: { column: "f1", run: null, direction: "asc" } });
  assert.equal(location.search, "?name=imbalance&poll=2&runs=a%2Cb&tag=val&filter=cat&sort=f1%3Aasc");
  assert.equal(viewLink.href, `http://host/data/plugin/imbalance/index.html${location.search}#top`);
});

test("a URL the browser refuses to take is warned about, and the link keeps the URL as it is", (t) => {
  const { location } = fakePage("?name=imbalance");
  const warnings = t.mock.method(console, "warn", () => {});
  const viewLink = { href: "before" };
  const history = { state: null, replaceState: () => { throw new Error("too long"); } };
  createViewUrl({ viewLink, location, history }).write(urlSelection(initialState(), { selected: ["a"], baselines: [], canGroup: false, curveClass: null, sortChosen: false }));
  assert.equal(viewLink.href, "http://host/data/plugin/imbalance/index.html?name=imbalance#top");
  assert.deepEqual(warnings.mock.calls.map((call) => call.arguments), [["imbalance: could not update the URL:", "too long"]]);
});
