// Helpers shared by the prsg_widgets views.  anywidget loads each view from one string and a
// relative import would need a build step, so the Python side (`_common.esm`) puts this file in
// front of each view's own file: every name here is visible to the view, nothing is exported.

// The bytes of a synced Bytes trait (DataView, ArrayBuffer or typed array) as a fresh copy, so
// the view never holds on to the message buffer.
function bufferOf(v) {
  if (v && ArrayBuffer.isView(v)) return v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength);
  if (v instanceof ArrayBuffer) return v.slice(0);
  return new ArrayBuffer(0);
}

function bytesOf(v) {
  return new Uint8ClampedArray(bufferOf(v));
}

function floatsOf(v) {
  const buf = bufferOf(v);
  return new Float32Array(buf, 0, Math.floor(buf.byteLength / 4));
}

function hasPixels(data, w, h) {
  return w > 0 && h > 0 && data.length === w * h * 4;
}

function dom(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// An image canvas with the clickable patch-cell layer on top (extra nodes go last, e.g. a tip).
function imageStage(extraClass, ...extra) {
  const stage = dom("div", extraClass ? "prsg-stage " + extraClass : "prsg-stage");
  const canvas = dom("canvas", "prsg-img");
  const overlay = dom("div", "prsg-cells");
  stage.append(canvas, overlay, ...extra);
  return { stage, canvas, overlay };
}

function onChanges(model, names, fn) {
  for (const name of names) model.on("change:" + name, fn);
}

function setCssSize(nodes, w, h) {
  for (const node of nodes) {
    node.style.width = w + "px";
    node.style.height = h + "px";
  }
}

// Draw RGBA bytes `w`×`h` scaled to `size` px wide without smoothing (pixels stay exact blocks);
// `background` fills first (else transparent), `style` also sets the CSS size.  Returns the context.
function drawScaled(canvas, data, w, h, size, { background = null, style = false } = {}) {
  const dispH = Math.round((h / Math.max(1, w)) * size);
  canvas.width = size;
  canvas.height = dispH;
  if (style) setCssSize([canvas], size, dispH);
  const ctx = canvas.getContext("2d");
  if (background) {
    ctx.fillStyle = background;
    ctx.fillRect(0, 0, size, dispH);
  } else {
    ctx.clearRect(0, 0, size, dispH);
  }
  if (hasPixels(data, w, h)) {
    const off = document.createElement("canvas");
    off.width = w;
    off.height = h;
    off.getContext("2d").putImageData(new ImageData(data, w, h), 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(off, 0, 0, size, dispH);
  }
  return ctx;
}

// The patch grid of the model (`grid_size` P, pixel `row_edges`/`col_edges`), or null while the
// edges do not fit P (not synced yet).
function gridOf(model) {
  const P = model.get("grid_size"), re = model.get("row_edges"), ce = model.get("col_edges");
  return re.length === P + 1 && ce.length === P + 1 ? { P, re, ce } : null;
}

// Patch `p` (id = row * P + col) in display pixels: image pixels scaled by `sx`, `sy`.
function patchBox(grid, p, sx, sy = sx) {
  const r = Math.floor(p / grid.P), c = p % grid.P;
  const { re, ce } = grid;
  return { x: ce[c] * sx, y: re[r] * sy, w: (ce[c + 1] - ce[c]) * sx, h: (re[r + 1] - re[r]) * sy };
}

// Outline `patches` on `ctx`, each stroke `inset` px inside its patch.
function strokePatches(ctx, grid, patches, sx, sy, color, lineWidth, inset) {
  ctx.strokeStyle = color;
  ctx.lineWidth = lineWidth;
  for (const p of patches) {
    const b = patchBox(grid, p, sx, sy);
    ctx.strokeRect(b.x + inset, b.y + inset, b.w - 2 * inset, b.h - 2 * inset);
  }
}

// Fill a `.prsg-cells` overlay with one clickable cell per patch id (`data-patch`), placed at
// scale `s`; `title(p)` is its tooltip, `label` adds the id badge, `setup(cell, p)` wires it.
// Returns the cells, or null (overlay left empty) while the grid is not synced.
function fillOverlay(overlay, model, ids, s, { className = "prsg-cell", title, label = false, setup }) {
  overlay.textContent = "";
  const grid = gridOf(model);
  if (!grid) return null;
  return ids.map((p) => {
    const cell = dom("div", className);
    cell.dataset.patch = String(p);
    cell.title = title(p, grid);
    const b = patchBox(grid, p, s);
    cell.style.left = b.x + "px";
    cell.style.top = b.y + "px";
    cell.style.width = b.w + "px";
    cell.style.height = b.h + "px";
    if (label) cell.appendChild(dom("span", "prsg-cell-id", String(p)));
    if (setup) setup(cell, p);
    overlay.appendChild(cell);
    return cell;
  });
}
