"""The confusion-matrix picture in TensorBoard's own Images card, in headless Chromium.

At the card's default size TensorBoard scales a picture to the card's image
area with pixelated scaling: a picture larger than that area is shrunk and
its 10-12 px text becomes unreadable. The picture is drawn to fit the area,
so it is shown whole at its own size or larger, for 2 to 30 classes and for
the most-confused 30 of 1000.
"""

import numpy as np
import pytest

playwright_api = pytest.importorskip("playwright.sync_api")

from browser_support import ARTIFACTS, launch_chromium  # noqa: E402
from support import tensorboard_server  # noqa: E402
from tb_imbalance import log_matrix  # noqa: E402

CLASSES = (2, 5, 10, 20, 30, 1000)

_IMAGES = """() => {
  const found = [];
  const walk = (root) => root.querySelectorAll("*").forEach((element) => {
    if (element.tagName === "IMG" && element.naturalWidth > 0) {
      const box = element.getBoundingClientRect();
      const card = element.closest("card-view, .card, [class*=card]");
      found.push({
        width: box.width, height: box.height, natural: [element.naturalWidth, element.naturalHeight],
        run: card ? card.textContent : "",
      });
    }
    if (element.shadowRoot) walk(element.shadowRoot);
  });
  walk(document);
  return found;
}"""


@pytest.fixture(scope="module")
def picture_logdir(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("pictures")
    rng = np.random.default_rng(0)
    for classes in CLASSES:
        cm = rng.integers(0, 30, (classes, classes)) * (rng.random((classes, classes)) < 0.2)
        cm += np.diag(rng.integers(50, 900, classes))
        names = [f"transaction type {k}" for k in range(classes)]
        log_matrix(logdir / f"c{classes:04d}", cm, 0, class_names=names)
    return logdir


@pytest.mark.parametrize("width", [1280, 1600])
def test_pictures_are_shown_whole_and_unshrunk_in_default_cards(picture_logdir, width):
    with tensorboard_server(picture_logdir, load_fast=False) as url, playwright_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": width, "height": 2400})
            page.goto(f"{url}/#timeseries&tagFilter=confusion_matrix_image")
            page.wait_for_function(f"() => ({_IMAGES})().length >= {len(CLASSES)}", timeout=60_000)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"images_card_{width}.png"))
            images = page.evaluate(_IMAGES)
        finally:
            browser.close()
    assert len(images) == len(CLASSES)
    for image in images:
        natural_width, natural_height = image["natural"]
        # shown whole (never cropped) and at its own size or larger: every glyph keeps its pixels
        assert image["height"] >= natural_height - 0.5 and image["width"] >= natural_width - 0.5, image
