// PatchGridSelector view: the image (raw RGBA bytes drawn via ImageData), a grid of clickable
// cells over it, click/drag toggling, a limit message, and an "auto" button.
// Key state is mirrored into data-* attributes so browser tests need not read canvas pixels.

function bytesOf(v) {
  if (!v) return new Uint8ClampedArray(0);
  if (v instanceof DataView) return new Uint8ClampedArray(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
  if (v instanceof ArrayBuffer) return new Uint8ClampedArray(v.slice(0));
  if (ArrayBuffer.isView(v)) return new Uint8ClampedArray(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
  return new Uint8ClampedArray(0);
}

function drawImage(canvas, data, w, h) {
  canvas.width = Math.max(1, w);
  canvas.height = Math.max(1, h);
  const ctx = canvas.getContext("2d");
  if (w > 0 && h > 0 && data.length === w * h * 4) ctx.putImageData(new ImageData(data, w, h), 0, 0);
}

function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "prsg-widget prsg-pgs";
  const title = document.createElement("div");
  title.className = "prsg-title";
  const stage = document.createElement("div");
  stage.className = "prsg-stage";
  const canvas = document.createElement("canvas");
  canvas.className = "prsg-img";
  const overlay = document.createElement("div");
  overlay.className = "prsg-cells";
  const tip = document.createElement("div");
  tip.className = "prsg-tip";
  stage.append(canvas, overlay, tip);

  const bar = document.createElement("div");
  bar.className = "prsg-bar";
  const count = document.createElement("span");
  count.className = "prsg-count";
  const auto = document.createElement("button");
  auto.className = "prsg-btn prsg-auto";
  auto.textContent = "auto";
  auto.title = "select the foreground patches";
  const clear = document.createElement("button");
  clear.className = "prsg-btn prsg-clear";
  clear.textContent = "clear";
  bar.append(count, auto, clear);
  const msg = document.createElement("div");
  msg.className = "prsg-msg";
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
    overlay.textContent = "";
    cells = [];
    const w = model.get("width"), h = model.get("height");
    const re = model.get("row_edges"), ce = model.get("col_edges");
    const P = model.get("grid_size");
    const size = model.get("display_size");
    const sx = size / Math.max(1, w);
    const dispH = Math.round(h * sx);
    stage.style.width = size + "px";
    stage.style.height = dispH + "px";
    root.style.width = size + "px";
    canvas.style.width = size + "px";
    canvas.style.height = dispH + "px";
    if (re.length !== P + 1 || ce.length !== P + 1) return;
    for (let r = 0; r < P; r++) {
      for (let c = 0; c < P; c++) {
        const id = r * P + c;
        const cell = document.createElement("div");
        cell.className = "prsg-cell";
        cell.dataset.patch = String(id);
        cell.title = `patch ${id} (row ${r}, col ${c})`;
        cell.style.left = ce[c] * sx + "px";
        cell.style.top = re[r] * sx + "px";
        cell.style.width = (ce[c + 1] - ce[c]) * sx + "px";
        cell.style.height = (re[r + 1] - re[r]) * sx + "px";
        const label = document.createElement("span");
        label.className = "prsg-cell-id";
        label.textContent = String(id);
        cell.appendChild(label);
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
        overlay.appendChild(cell);
        cells.push(cell);
      }
    }
    updateCells();
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

  model.on("change:image", drawAll);
  model.on("change:width", drawAll);
  model.on("change:grid_size", drawAll);
  model.on("change:row_edges", drawAll);
  model.on("change:col_edges", drawAll);
  model.on("change:display_size", drawAll);
  model.on("change:selected", updateCells);
  model.on("change:allowed", updateCells);
  model.on("change:max_patches", updateCells);
  model.on("change:message", showMessage);
  model.on("change:title", updateChrome);
  model.on("change:show_auto", updateChrome);
  model.on("change:auto_n", updateChrome);
  updateChrome();
  drawAll();
  showMessage();
  return () => window.removeEventListener("pointerup", stop);
}

export default { render };
