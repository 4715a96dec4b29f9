// Entry point: TensorBoard's plugin iframe imports this module and calls render().
import { createApi } from "./static/api.js";
import { startApp } from "./static/app.js";
import { readPresets } from "./static/state.js";
import { followTheme } from "./static/theme.js";

function loadStylesheet(href) {
  return new Promise((resolve) => {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = href;
    link.addEventListener("load", resolve);
    link.addEventListener("error", () => {
      console.warn("imbalance: could not load", href);
      resolve();
    });
    document.head.append(link);
  });
}

/**
 * Renders the Imbalance dashboard into the plugin iframe. Data URLs are
 * built from this module's URL, so the page works under `--path_prefix`.
 * @returns {Promise<void>}
 */
export async function render() {
  followTheme(); // before the stylesheet loads: its first paint is in the right theme
  document.body.dataset.state = "loading";
  await loadStylesheet(new URL("./static/style.css", import.meta.url).href);
  const root = document.createElement("div");
  root.className = "imbalance-plugin";
  document.body.append(root);
  startApp({
    root,
    api: createApi(new URL("./", import.meta.url)),
    presets: readPresets(window.location.search),
  });
}
