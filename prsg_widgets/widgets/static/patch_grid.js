// PatchGridSelector view: the image (raw RGBA bytes drawn via ImageData), a grid of clickable
// cells over it, click/drag toggling, a limit message, and an "auto" button.
// Key state is mirrored into data-* attributes so browser tests need not read canvas pixels.

function drawImage(canvas, data, w, h) {
  canvas.width = Math.max(1, w);
  canvas.height = Math.max(1, h);
  const ctx = canvas.getContext("2d");
  if (hasPixels(data, w, h)) ctx.putImageData(new ImageData(data, w, h), 0, 0);
}

function render({ model, el }) {
  const root = dom("div", "prsg-widget prsg-pgs");
  const title = dom("div", "prsg-title");
  const tip = dom("div", "prsg-tip");
  const { stage, canvas, overlay } = imageStage("", tip);

  const bar = dom("div", "prsg-bar");
  const count = dom("span", "prsg-count");
  const auto = dom("button", "prsg-btn prsg-auto", "auto");
  auto.title = "select the foreground patches";
  const clear = dom("button", "prsg-btn prsg-clear", "clear");
  bar.append(count, auto, clear, exportButton(root, () => "patches " + (model.get("title") || "") +
    " N=" + model.get("selected").join("-")));
  const msg = dom("div", "prsg-msg");
  root.append(title, stage, bar, msg);
  el.appendChild(root);

  let cells = [];
  let dragging = false;
  let dragMode = true; // true: adding
  let localMessage = null;

  const selectedSet = () => new Set(model.get("selected"));
  const allowedSet = () => {
    const a = model.get("allowed");
    return a === null || a === undefined ? null : new Set(a);
  };

  function layoutCells() {
    const w = model.get("width"), h = model.get("height");
    const P = model.get("grid_size");
    const size = model.get("display_size");
    const sx = size / Math.max(1, w);
    setCssSize([stage, canvas], size, Math.round(h * sx));
    root.style.width = size + "px";
    const ids = Array.from({ length: P * P }, (_, i) => i);
    const made = fillOverlay(overlay, model, ids, sx, {
      title: (id) => `patch ${id} (row ${Math.floor(id / P)}, col ${id % P})`,
      label: true,
      setup: (cell, id) => {
        cell.addEventListener("pointerdown", (ev) => {
          ev.preventDefault();
          const sel = selectedSet();
          dragMode = !sel.has(id);
          dragging = true;
          apply(id);
        });
        cell.addEventListener("pointerenter", () => {
          root.dataset.hover = String(id);
          tip.textContent = `patch ${id}`;
          tip.style.display = "block";
          tip.style.left = cell.style.left;
          tip.style.top = cell.style.top;
          if (dragging) apply(id);
        });
        cell.addEventListener("pointerleave", () => {
          if (root.dataset.hover === String(id)) {
            root.dataset.hover = "";
            tip.style.display = "none";
          }
        });
      },
    });
    cells = made || [];
    if (made) updateCells();
  }

  function apply(id) {
    const allowed = allowedSet();
    if (allowed && !allowed.has(id)) {
      setMessage(`patch ${id} is not one of the patches that can be chosen here`);
      return;
    }
    const sel = selectedSet();
    if (dragMode === sel.has(id)) return; // already in the wanted state
    const max = model.get("max_patches");
    if (dragMode) {
      if (sel.size >= max) {
        setMessage(`limit reached: at most ${max} patches (2^n minimal features to solve)`);
        return;
      }
      sel.add(id);
    } else {
      sel.delete(id);
    }
    setMessage("");
    model.set("selected", Array.from(sel).sort((a, b) => a - b));
    model.save_changes();
    updateCells();
  }

  function setMessage(text) {
    localMessage = text;
    if (model.get("message") !== text) {
      model.set("message", text);
      model.save_changes();
    }
    showMessage();
  }

  function showMessage() {
    const text = model.get("message") || "";
    msg.textContent = text;
    msg.classList.toggle("prsg-warn", text.startsWith("limit") || text.includes("not one of"));
    root.dataset.message = text;
  }

  function updateCells() {
    const sel = selectedSet();
    const allowed = allowedSet();
    for (const cell of cells) {
      const id = Number(cell.dataset.patch);
      cell.classList.toggle("selected", sel.has(id));
      cell.classList.toggle("disabled", !!allowed && !allowed.has(id));
    }
    const max = model.get("max_patches");
    count.textContent = `${sel.size} / ${max} patches`;
    count.classList.toggle("prsg-full", sel.size >= max);
    root.dataset.selected = Array.from(sel).sort((a, b) => a - b).join(",");
    root.dataset.count = String(sel.size);
    root.dataset.max = String(max);
  }

  function drawAll() {
    drawImage(canvas, bytesOf(model.get("image")), model.get("width"), model.get("height"));
    layoutCells();
  }

  function updateChrome() {
    const t = model.get("title");
    title.textContent = t;
    title.style.display = t ? "block" : "none";
    auto.style.display = model.get("show_auto") ? "" : "none";
    auto.textContent = `auto (${model.get("auto_n")})`;
  }

  const stop = () => { dragging = false; };
  window.addEventListener("pointerup", stop);
  auto.addEventListener("click", () => model.send({ type: "auto" }));
  clear.addEventListener("click", () => model.send({ type: "clear" }));

  onChanges(model, ["image", "width", "grid_size", "row_edges", "col_edges", "display_size"], drawAll);
  onChanges(model, ["selected", "allowed", "max_patches"], updateCells);
  model.on("change:message", showMessage);
  onChanges(model, ["title", "show_auto", "auto_n"], updateChrome);
  updateChrome();
  drawAll();
  showMessage();
  return () => window.removeEventListener("pointerup", stop);
}

export default { render };
