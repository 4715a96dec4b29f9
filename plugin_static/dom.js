// Small DOM helpers. Every string passed as a child becomes a text node, so
// user data (run and class names) is never parsed as HTML.

const SVG_NS = "http://www.w3.org/2000/svg";
const optionSignatures = new WeakMap();

// `data-*` attributes set one by one: assigning to `node.dataset` costs about twice as much
// (felt with 10,000 plot points). Keys are camelCase, as for `dataset`.
function setData(node, data) {
  for (const [key, value] of Object.entries(data)) {
    node.setAttribute(`data-${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`, String(value));
  }
}

function applyProps(node, props) {
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.setAttribute("class", value);
    else if (key === "text") node.textContent = String(value);
    else if (key === "dataset") setData(node, value);
    else if (key === "style") Object.assign(node.style, value);
    else if (key === "on") {
      for (const [event, handler] of Object.entries(value)) node.addEventListener(event, handler);
    } else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
}

function appendChildren(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/**
 * Creates an HTML element.
 * @param {string} tag element name
 * @param {Object} [props] attributes; special keys: `class`, `text`
 *   (textContent), `dataset`, `style`, `on` ({event: handler}); non-string
 *   values of known properties (e.g. `checked`, `value` numbers) are set as properties
 * @param {...(Node|string|number|null|undefined|false|Array)} children
 * @returns {HTMLElement}
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  applyProps(node, props);
  appendChildren(node, children);
  return node;
}

/**
 * Creates an SVG element; like {@link el} but in the SVG namespace.
 * @param {string} tag
 * @param {Object} [props]
 * @param {...(Node|string|number|null|undefined|false|Array)} children
 * @returns {SVGElement}
 */
export function svg(tag, props = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = String(value);
    else if (key === "dataset") setData(node, value);
    else node.setAttribute(key, String(value));
  }
  appendChildren(node, children);
  return node;
}

/**
 * `text` as children, each name wrapped by `isolated` (format.js) in a `<bdi>` element: a
 * right-to-left name cannot reorder the text around it, and the text holds no invisible marks,
 * e.g. `isolatedText("run \u2068אלף\u2069 at step 3")` is `["run ", <bdi>אלף</bdi>, " at step 3"]`.
 * @param {string} text
 * @returns {Array<Node|string>}
 */
export function isolatedText(text) {
  return text.split(/\u2068([^\u2069]*)\u2069/).map((part, index) => (index % 2 ? el("bdi", {}, part) : part)).filter((part) => part !== "");
}

/**
 * `text` as children with a line-break opportunity (`<wbr>`) after each
 * "_", "/", "-" and ".": long run names wrap between their parts, e.g.
 * `breakable("exp_b/seed-1")` is `["exp_", <wbr>, "b/", <wbr>, "seed-", <wbr>, "1"]`.
 * @param {string} text
 * @returns {Array<Node|string>}
 */
export function breakable(text) {
  return text.split(/(?<=[_/.-])/).flatMap((part, index) => (index ? [el("wbr"), part] : [part]));
}

/**
 * Replaces all children of `node`.
 * @param {Element} node
 * @param {...(Node|string|null|undefined|false|Array)} children
 */
export function replaceChildren(node, ...children) {
  node.replaceChildren();
  appendChildren(node, children);
}

/**
 * A `<select>` whose options are `[value, label]` pairs (labels as text).
 * @param {Array<[string, string]>} options
 * @param {string} selected value to select
 * @param {Object} [props] extra props for the select element
 * @returns {HTMLSelectElement}
 */
export function select(options, selected, props = {}) {
  const node = el("select", props);
  setOptions(node, options, selected);
  return node;
}

/**
 * Replaces the options of a `<select>` and selects `selected`.
 * @param {HTMLSelectElement} node
 * @param {Array<[string, string]>} options
 * @param {string} selected
 */
export function setOptions(node, options, selected) {
  const signature = JSON.stringify(options);
  if (optionSignatures.get(node) !== signature) {
    node.replaceChildren(...options.map(([value, label]) => el("option", { value: String(value) }, label)));
    optionSignatures.set(node, signature);
  }
  if (selected !== undefined && selected !== null) node.value = String(selected);
}

/**
 * A labelled control: `<label class="field"><span>label</span>control</label>`.
 * @param {string} label
 * @param {Element} control
 * @returns {HTMLLabelElement}
 */
export function field(label, control) {
  return el("label", { class: "field" }, el("span", { class: "field-label" }, label), control);
}
