// Renders only the rows inside the scrolled viewport, so lists of thousands
// of rows stay responsive. Rows must have a fixed height.

const OVERSCAN = 8;
const MIN_ROWS = 40; // drawn before layout is known (e.g. while hidden)

/**
 * Virtualises the children of `body` inside the scrolling element `scroller`.
 * @param {Object} options
 * @param {HTMLElement} options.scroller the element with `overflow: auto`
 * @param {HTMLElement} options.body the element holding the rows (a tbody or a div)
 * @param {number} options.rowHeight row height in CSS pixels
 * @param {(row: any, index: number) => HTMLElement} options.renderRow
 * @param {(height: number) => HTMLElement} options.renderSpacer an empty
 *   element of the given height (a `<tr>` for tables)
 * @returns {{setRows: (rows: any[]) => void, redraw: () => void}}
 */
export function createVirtualRows({ scroller, body, rowHeight, renderRow, renderSpacer }) {
  let rows = [];
  let drawn = { rows: null, first: -1, last: -1 };
  let frame = 0;

  function visibleRange() {
    // A scroller sized by its content (max-height) is as short as the rows drawn so far:
    // count with the height it may grow to, so that a short list is drawn whole at once.
    const maxHeight = parseFloat(getComputedStyle(scroller).maxHeight);
    const viewport = scroller.clientHeight ? Math.max(scroller.clientHeight, Number.isFinite(maxHeight) ? maxHeight : 0) : 0;
    if (!viewport) return [0, Math.min(rows.length, MIN_ROWS)];
    const bodyTop = body.getBoundingClientRect().top - scroller.getBoundingClientRect().top + scroller.scrollTop;
    const offset = scroller.scrollTop - bodyTop;
    const first = Math.max(0, Math.floor(offset / rowHeight) - OVERSCAN);
    const last = Math.min(rows.length, Math.ceil((offset + viewport) / rowHeight) + OVERSCAN);
    return [first, Math.max(first, last)];
  }

  function draw(force = false) {
    frame = 0;
    const [first, last] = visibleRange();
    if (!force && drawn.rows === rows && drawn.first === first && drawn.last === last) return;
    drawn = { rows, first, last };
    const children = [];
    if (first > 0) children.push(renderSpacer(first * rowHeight));
    for (let index = first; index < last; index++) children.push(renderRow(rows[index], index));
    if (last < rows.length) children.push(renderSpacer((rows.length - last) * rowHeight));
    body.replaceChildren(...children);
  }

  const schedule = () => {
    if (!frame) frame = requestAnimationFrame(() => draw());
  };
  scroller.addEventListener("scroll", schedule, { passive: true });
  new ResizeObserver(schedule).observe(scroller);

  return {
    setRows(nextRows) {
      rows = nextRows;
      draw(true);
    },
    redraw() {
      draw(true);
    },
  };
}
