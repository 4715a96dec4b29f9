// Module hook (see register-esm.mjs): `.js` files under plugin_static/ are ES modules.
export async function load(url, context, nextLoad) {
  if (url.startsWith("file:") && url.includes("/plugin_static/") && url.endsWith(".js")) {
    return nextLoad(url, { ...context, format: "module" });
  }
  return nextLoad(url, context);
}
