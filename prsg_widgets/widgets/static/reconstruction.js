// ReconstructionView: the image with the target patches (click patches of N to toggle), the
// reconstruction after `step` components, and the RMSE-per-step curve. State mirrored in data-*.

import {
  bytesOf, dom, imageStage, onChanges, drawScaled, hiDpiContext, onWidthChange, clamp,
  themeColor, onThemeChange, infoIcon, exportButton, describeCanvas, gridOf, strokePatches,
  fillOverlay, cellsOf, a11yScope } from "./common.js";
import { PALETTE } from "./constants.js";

/**
 * The traits this view reads, synced from ReconstructionView (reconstruction.py).
 * @typedef {GridModel & ExportModel & ViewTraits} Model
 */
/**
 * @typedef {object} ViewTraits
 * @property {DataView} image  RGBA bytes of the explained image
 * @property {DataView} recon  RGBA bytes of the reconstruction at `step`
 * @property {number} width  image width in pixels
 * @property {number} height  image height in pixels
 * @property {number[]} patches  the explained patches N
 * @property {number[]} target  the target patches T (the view sets it)
 * @property {number} step  components added (k)
 * @property {number} steps  components that can be added
 * @property {number[]} rmse  RMSE on T per step
 * @property {number[]} rmse_other  RMSE elsewhere per step (-1: none)
 * @property {number} tolerance  √ε
 * @property {string} status  what the view waits for
 */
/** @typedef {import("./common.js").GridModel} GridModel */
/** @typedef {import("./common.js").ExportModel} ExportModel */

/** @type {import("anywidget/types").Render<Model>} */
function render({ model, el }) {
  let SIZE = 144; // CSS px per image: follows the container (110–200)
  const root = dom("div", "prsg-widget prsg-rec");

  const colA = dom("div", "prsg-rec-col");
  const tA = dom("div", "", "image x · target T ");
  tA.appendChild(dom("span", "prsg-swatch prsg-swatch-target", ""));
  const { stage, canvas: cA, overlay } = imageStage("");
  colA.append(tA, stage);

  const colB = dom("div", "prsg-rec-col");
  const tB = dom("div");
  const tBText = dom("span");
  tB.append(tBText, document.createTextNode(" "), infoIcon("reconstruction"));
  const cB = dom("canvas", "prsg-pix prsg-recon");
  const capB = dom("div", "prsg-muted prsg-rec-cap");
  colB.append(tB, cB, capB);

  const colC = dom("div", "prsg-rec-col");
  const tC = dom("div", "", "RMSE on T per step k ");
  tC.appendChild(exportButton(root, model, "reconstruction"));
  const plot = dom("canvas", "prsg-rec-plot");
  const text = dom("div", "prsg-rec-text");
  colC.append(tC, plot, text);

  root.append(colA, colB, colC);
  el.appendChild(root);
  a11yScope(el);

  function drawOriginal() {
    const w = model.get("width"), h = model.get("height");
    drawScaled(cA, bytesOf(model.get("image")), w, h, SIZE, { background: themeColor(root, "--jp-layout-color3", "#bbb"), style: true });
    stage.style.width = cA.style.width;
    stage.style.height = cA.style.height;
    describeCanvas(cA, "the image x with the patches N; the target patches T are outlined in orange");
    const cells = fillOverlay(overlay, model, model.get("patches"), SIZE / Math.max(1, w), {
      name: "target patches T: arrow keys move, Space or Enter toggles",
      multi: true,
      title: (p) => `patch ${p}: toggle it in the target set T`,
      setup: (cell, p) => cell.addEventListener("click", () => {
        const t = new Set(model.get("target"));
        if (t.has(p)) t.delete(p); else t.add(p);
        model.set("target", Array.from(t).sort((a, b) => a - b));
        model.save_changes();
        updateTarget();
      }),
    });
    if (cells) updateTarget();
  }

  function updateTarget() {
    const t = new Set(model.get("target"));
    for (const cell of cellsOf(overlay)) {
      cell.classList.toggle("target", t.has(Number(cell.dataset.patch)));
      cell.setAttribute("aria-selected", String(t.has(Number(cell.dataset.patch))));
    }
    root.dataset.target = Array.from(t).sort((a, b) => a - b).join(",");
  }

  function drawRecon() {
    const w = model.get("width"), h = model.get("height");
    const ctx = drawScaled(cB, bytesOf(model.get("recon")), w, h, SIZE, { background: themeColor(root, "--jp-layout-color3", "#bbb"), style: true });
    const grid = gridOf(model), s = SIZE / Math.max(1, w);
    if (grid) strokePatches(ctx, grid, model.get("target"), s, s, PALETTE.target, 2, 1);
    const step = model.get("step"), steps = model.get("steps");
    tBText.textContent = steps ? `x̂ with the top ${step} of ${steps} components` : "reconstruction x̂";
    describeCanvas(cB, tBText.textContent);
    capB.textContent = !steps ? "" : step === 0 ? "k = 0: g(b), the blurry 'average image' — no component added yet"
      : step === steps ? "all components covering T: x̂ regenerates T (Eq. 7)"
      : `g(b + the top ${step} components whose action field meets T)`;
    drawPlot();
  }

  function drawPlot() {
    const W = 200, H = 132, L = 38, B = 20, T = 8, R = 8;
    const ctx = hiDpiContext(plot, W, H);
    const fg = themeColor(root, "--jp-ui-font-color1", "#222");
    const muted = themeColor(root, "--jp-ui-font-color2", "#777");
    const rmse = model.get("rmse"), other = model.get("rmse_other");
    const step = model.get("step"), steps = model.get("steps"), tol = model.get("tolerance");
    const status = model.get("status");
    root.dataset.step = String(step);
    root.dataset.steps = String(steps);
    root.dataset.status = status;
    const cur = rmse.length > step ? rmse[step] : null;
    root.dataset.rmse = cur === null ? "" : String(cur);
    describeCanvas(plot, cur === null ? "RMSE plot: no reconstruction yet" :
      `RMSE on the target per step k: ${cur.toFixed(4)} at k = ${step} of ${steps}; tolerance √ε = ${tol.toFixed(4)}`);
    if (!rmse.length) {
      ctx.fillStyle = muted;
      ctx.font = "11px sans-serif";
      // the canvas says in short what the status below says in full (never "waiting" when nothing runs)
      const short = status.startsWith("waiting") ? "waiting for the solve…"
        : status.startsWith("solve stopped") ? "solve stopped (Resume continues)"
        : status.startsWith("solve failed") ? "solve failed" : "no reconstruction yet";
      ctx.fillText(short, 8, H / 2);
      text.textContent = status;
      return;
    }
    const vals = rmse.concat(other.filter((v) => v >= 0));
    const ymax = Math.max(1e-9, ...vals) * 1.05;
    const xs = (i) => L + (i / Math.max(1, steps)) * (W - L - R);
    const ys = (v) => H - B - (v / ymax) * (H - B - T);
    ctx.strokeStyle = muted;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(L, T);
    ctx.lineTo(L, H - B);
    ctx.lineTo(W - R, H - B);
    ctx.stroke();
    ctx.fillStyle = fg;
    ctx.font = "10px sans-serif";
    ctx.fillText(ymax.toFixed(2), 2, T + 8);
    ctx.fillText("0", L - 10, H - B);
    ctx.fillText("0", L, H - 6);
    ctx.fillText(String(steps), W - R - 14, H - 6);
    ctx.fillText("k", (L + W) / 2, H - 6);
    if (tol > 0 && tol < ymax) {
      ctx.setLineDash([3, 3]);
      ctx.strokeStyle = "#2f9e44";
      ctx.beginPath();
      ctx.moveTo(L, ys(tol));
      ctx.lineTo(W - R, ys(tol));
      ctx.stroke();
      ctx.setLineDash([]);
    }
    const line = (arr, color) => {
      ctx.strokeStyle = color;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      arr.forEach((v, i) => { if (v < 0) return; const x = xs(i), y = ys(v); if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y); });
      ctx.stroke();
    };
    if (other.length) line(other, "#adb5bd");
    line(rmse, PALETTE.target);
    if (cur !== null) {
      ctx.fillStyle = PALETTE.selected;
      ctx.beginPath();
      ctx.arc(xs(step), ys(cur), 4, 0, 2 * Math.PI);
      ctx.fill();
    }
    const o = other.length > step && other[step] >= 0 ? other[step].toFixed(4) : "–";
    text.innerHTML = `<span style="color:${PALETTE.target}">━</span> RMSE on T: <b>${cur.toFixed(4)}</b> · ` +
      `<span style="color:#adb5bd">━</span> elsewhere: ${o}<br>` +
      `<span style="color:#2f9e44">- - √ε = ${tol.toFixed(4)}</span> (solver tolerance) `;
    text.appendChild(infoIcon("sqrt epsilon"));
  }

  onChanges(model, ["image", "patches", "row_edges"], drawOriginal);
  model.on("change:target", () => { updateTarget(); drawRecon(); });
  onChanges(model, ["recon", "step", "steps"], drawRecon);
  onChanges(model, ["rmse", "status"], drawPlot);
  const unwatch = onThemeChange(() => { drawOriginal(); drawRecon(); });
  const unfit = onWidthChange(el, (w) => {
    const size = clamp(Math.floor((w - 270) / 2), 110, 180);
    if (size !== SIZE) { SIZE = size; drawOriginal(); drawRecon(); }
  });
  drawOriginal();
  drawRecon();
  return () => { unwatch(); unfit(); };
}

export default { render };
