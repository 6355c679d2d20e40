"""Smoke test of the browser harness with a trivial inline anywidget."""

import pytest

pytest.importorskip("anywidget")

COUNTER_CELL = '''
import anywidget
import traitlets


class Counter(anywidget.AnyWidget):
    _esm = """
    function render({ model, el }) {
      const button = document.createElement("button");
      button.className = "prsg-smoke-counter";
      const update = () => {
        button.textContent = `count is ${model.get("count")}`;
        button.dataset.count = String(model.get("count"));
      };
      button.addEventListener("click", () => {
        model.set("count", model.get("count") + 1);
        model.save_changes();
      });
      model.on("change:count", update);
      update();
      el.appendChild(button);
    }
    export default { render };
    """
    count = traitlets.Int(0).tag(sync=True)


counter = Counter()
counter
'''


def test_counter_click_reaches_python(lab):
    page = lab.open_notebook([COUNTER_CELL], name="smoke_counter.ipynb")

    button = lab.cell_output(page, 0).locator("button.prsg-smoke-counter")
    button.wait_for(state="visible", timeout=15_000)
    assert button.text_content() == "count is 0"

    button.click()
    assert lab.wait_for_python(page, "counter.count", 1, timeout=15) == 1

    # Python -> JS direction, and run_code returning printed text.
    assert lab.run_code(page, "counter.count += 1; print('now', counter.count)") == "now 2\n"
    page.wait_for_function(
        "() => document.querySelector('button.prsg-smoke-counter')?.dataset.count === '2'",
        timeout=10_000,
    )
    assert lab.eval_python(page, "{'count': counter.count, 'pair': (1, 2.5)}") == {
        "count": 2,
        "pair": (1, 2.5),
    }

    shot = lab.screenshot(page, "counter-after-click")
    assert shot.is_file() and shot.stat().st_size > 0
