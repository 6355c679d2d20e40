// PictureRow: a few images of one size side by side, each with a caption and patches outlined,
// drawn at devicePixelRatio on the theme's background (the teaching notebook's pictures).

import {
  bytesOf, dom, onChanges, drawScaled, themeColor, onThemeChange, exportButton,
  describeCanvas, gridOf, strokePatches, a11yScope } from "./common.js";
import { PALETTE } from "./constants.js";

/**
 * The traits this view reads, synced from PictureRow (picture_row.py).
 * @typedef {GridModel & ExportModel & ViewTraits} Model
 */
/**
 * @typedef {object} ViewTraits
 * @property {DataView} images  the images' RGBA bytes back to back
 * @property {object[]} items  per image: {caption, outline, color, alt}
 * @property {number} width  image width in pixels
 * @property {number} height  image height in pixels
 * @property {number} size  CSS px per image
 * @property {string} note  the note under the row
 */
/** @typedef {import("./common.js").GridModel} GridModel */
/** @typedef {import("./common.js").ExportModel} ExportModel */

/** @type {import("anywidget/types").Render<Model>} */
function render({ model, el }) {
  const root = dom("div", "prsg-widget prsg-pictures");
  const row = dom("div", "prsg-picture-row");
  const note = dom("div", "prsg-muted prsg-picture-note");
  const tools = dom("div", "prsg-tools");
  tools.append(exportButton(root, model, "pictures"));
  root.append(row, note, tools);
  el.appendChild(root);
  a11yScope(el);

  function draw() {
    const w = model.get("width"), h = model.get("height"), size = model.get("size");
    const all = bytesOf(model.get("images"));
    const stride = w * h * 4;
    const grid = gridOf(model);
    row.textContent = "";
    model.get("items").forEach((it, i) => {
      const col = dom("div", "prsg-rec-col prsg-picture");
      const cv = dom("canvas", "prsg-pix");
      const data = all.length >= (i + 1) * stride ? all.slice(i * stride, (i + 1) * stride) : new Uint8ClampedArray(0);
      const ctx = drawScaled(cv, data, w, h, size, { background: themeColor(root, "--jp-layout-color3", "#bbb"), style: true });
      if (grid && it.outline && it.outline.length) {
        strokePatches(ctx, grid, it.outline, size / Math.max(1, w), size / Math.max(1, w), it.color || PALETTE.actionField, 2, 1);
      }
      describeCanvas(cv, it.alt || it.caption);
      const cap = dom("div", "prsg-cap prsg-picture-cap", it.caption);
      col.append(cv, cap);
      row.appendChild(col);
    });
    note.textContent = model.get("note");
    root.dataset.items = String(model.get("items").length);
  }

  onChanges(model, ["images", "items", "size", "note", "width", "height", "row_edges"], draw);
  const unwatch = onThemeChange(draw);
  draw();
  return () => unwatch();
}

export default { render };
