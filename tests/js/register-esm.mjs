// plugin_static/ holds the dashboard's plain `.js` ES modules, written for
// the browser, with no package.json (every file there ships in the wheel).
// Node before 20.19 would read them as CommonJS; this hook loads them as ES
// modules. `make test` runs:
//   node --import ./tests/js/register-esm.mjs --test tests/js/*.test.mjs
import { register } from "node:module";

register("./esm-hooks.mjs", import.meta.url);
