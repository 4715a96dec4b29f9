// A redraw that replaces the focused element (a new step arriving, say) puts focus back on its
// replacement, so that a keyboard or screen-reader user stays where they were.

/**
 * Runs `draw`, which replaces `container`'s children; when focus was on one of them, it goes to
 * the new element with the same `data-testid`, `data-true` and `data-pred`, if there is one.
 * @param {Element} container
 * @param {() => void} draw
 */
export function keepFocus(container, draw) {
  const before = document.activeElement;
  const held = before && before !== container && container.contains(before) ? { ...before.dataset } : null;
  draw();
  if (!held || container.contains(document.activeElement)) return;
  const same = [...container.querySelectorAll("[data-testid]")].find(
    (node) => node.dataset.testid === held.testid && node.dataset.true === held.true && node.dataset.pred === held.pred,
  );
  same?.focus({ preventScroll: true });
}
