// PatchGridSelector view: the image (raw RGBA bytes drawn via ImageData), a grid of clickable
// cells over it, click/drag toggling, a limit message, and an "auto" button.
// Key state is mirrored into data-* attributes so browser tests need not read canvas pixels.
// The image is as wide as the container allows, at most `display_size` CSS px, drawn at
// devicePixelRatio on the theme's background.

import {
  bytesOf, dom, imageStage, onChanges, setCssSize, drawScaled, onWidthChange, clamp,
  themeColor, onThemeChange, exportButton, describeCanvas, fillOverlay, a11yScope } from "./common.js";

/**
 * The traits this view reads, synced from PatchGridSelector (patch_grid.py).
 * @typedef {GridModel & ExportModel & ViewTraits} Model
 */
/**
 * @typedef {object} ViewTraits
 * @property {DataView} image  raw RGBA bytes of the image, width × height × 4
 * @property {number} width  image width in pixels
 * @property {number} height  image height in pixels
 * @property {number[]} selected  the selected patch ids (the view sets it)
 * @property {number[] | null} allowed  the patch ids that may be toggled (null: all)
 * @property {number} max_patches  most patches that may be selected
 * @property {number} auto_n  how many patches the auto button picks
 * @property {boolean} show_auto  whether the auto button shows
 * @property {string} message  the last refusal or notice (the view sets it too)
 * @property {string} title  the title above the image
 * @property {number} display_size  largest width of the image in CSS px
 */
/** @typedef {import("./common.js").GridModel} GridModel */
/** @typedef {import("./common.js").ExportModel} ExportModel */

/** @type {import("anywidget/types").Render<Model>} */
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
  bar.append(count, auto, clear, exportButton(root, model, "patches"));
  const msg = dom("div", "prsg-msg");
  root.append(title, stage, bar, msg);
  el.appendChild(root);
  a11yScope(el);

  let cells = [];
  let fitWidth = 0; // CSS px available in the container (0: not measured yet)
  const size = () => {
    const max = Math.max(48, model.get("display_size"));
    return fitWidth > 0 ? clamp(Math.floor(fitWidth - 4), Math.min(96, max), max) : max;
  };
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
    const S = size();
    const sx = S / Math.max(1, w);
    setCssSize([stage], S, Number(canvas.dataset.cssHeight) || Math.round(h * sx));
    root.style.width = S + "px";
    root.dataset.size = String(S);
    const ids = Array.from({ length: P * P }, (_, i) => i);
    const made = fillOverlay(overlay, model, ids, sx, {
      title: (id) => `patch ${id} (row ${Math.floor(id / P)}, col ${id % P})`,
      label: true,
      name: "patches N: arrow keys move, Space or Enter selects",
      multi: true,
      activate: (_cell, id) => { dragMode = !selectedSet().has(id); apply(id); },
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
      cell.setAttribute("aria-selected", String(sel.has(id)));
      if (allowed && !allowed.has(id)) cell.setAttribute("aria-disabled", "true");
      else cell.removeAttribute("aria-disabled");
      cell.classList.toggle("disabled", !!allowed && !allowed.has(id));
    }
    const max = model.get("max_patches");
    count.textContent = `${sel.size} / ${max} patches`;
    count.classList.toggle("prsg-full", sel.size >= max);
    root.dataset.selected = Array.from(sel).sort((a, b) => a - b).join(",");
    root.dataset.count = String(sel.size);
    root.dataset.max = String(max);
    describeCanvas(canvas, `generated image ${model.get("title") || ""} with its ${model.get("grid_size")}×` +
      `${model.get("grid_size")} patch grid; selected patches: ${sel.size ? Array.from(sel).join(", ") : "none"}`);
  }

  function drawAll() {
    drawScaled(canvas, bytesOf(model.get("image")), model.get("width"), model.get("height"), size(),
      { background: themeColor(root, "--jp-layout-color3", "#bbb"), style: true });
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
  const unwatch = onThemeChange(drawAll);
  const unfit = onWidthChange(el, (w) => {
    const before = size();
    fitWidth = w;
    if (size() !== before) drawAll();
  });
  updateChrome();
  drawAll();
  showMessage();
  return () => { window.removeEventListener("pointerup", stop); unwatch(); unfit(); };
}

export default { render };
