// ReconstructionView: the image with the target patches (click patches of N to toggle), the
// reconstruction after `step` components, and the RMSE-per-step curve. State mirrored in data-*.

function bytesOf(v) {
  if (!v) return new Uint8ClampedArray(0);
  if (v instanceof DataView) return new Uint8ClampedArray(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
  if (v instanceof ArrayBuffer) return new Uint8ClampedArray(v.slice(0));
  if (ArrayBuffer.isView(v)) return new Uint8ClampedArray(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
  return new Uint8ClampedArray(0);
}

function drawScaled(canvas, data, w, h, size) {
  const dispH = Math.round((h / Math.max(1, w)) * size);
  canvas.width = size;
  canvas.height = dispH;
  canvas.style.width = size + "px";
  canvas.style.height = dispH + "px";
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#bbb";
  ctx.fillRect(0, 0, size, dispH);
  if (w > 0 && h > 0 && data.length === w * h * 4) {
    const off = document.createElement("canvas");
    off.width = w;
    off.height = h;
    off.getContext("2d").putImageData(new ImageData(data, w, h), 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(off, 0, 0, size, dispH);
  }
  return ctx;
}

function render({ model, el }) {
  const SIZE = 144;
  const root = document.createElement("div");
  root.className = "prsg-widget prsg-rec";

  const colA = document.createElement("div");
  colA.className = "prsg-rec-col";
  const tA = document.createElement("div");
  tA.textContent = "image x · target T";
  const stage = document.createElement("div");
  stage.className = "prsg-stage";
  const cA = document.createElement("canvas");
  cA.className = "prsg-img";
  const overlay = document.createElement("div");
  overlay.className = "prsg-cells";
  stage.append(cA, overlay);
  colA.append(tA, stage);

  const colB = document.createElement("div");
  colB.className = "prsg-rec-col";
  const tB = document.createElement("div");
  const cB = document.createElement("canvas");
  cB.className = "prsg-pix prsg-recon";
  colB.append(tB, cB);

  const colC = document.createElement("div");
  colC.className = "prsg-rec-col";
  const tC = document.createElement("div");
  tC.textContent = "RMSE per step";
  const plot = document.createElement("canvas");
  plot.className = "prsg-rec-plot";
  const text = document.createElement("div");
  text.className = "prsg-rec-text";
  colC.append(tC, plot, text);

  root.append(colA, colB, colC);
  el.appendChild(root);

  function outline(ctx, patches, color) {
    const w = model.get("width"), h = model.get("height");
    const P = model.get("grid_size"), re = model.get("row_edges"), ce = model.get("col_edges");
    if (re.length !== P + 1) return;
    const s = SIZE / Math.max(1, w);
    ctx.strokeStyle = color;
    ctx.lineWidth = 2;
    for (const p of patches) {
      const r = Math.floor(p / P), c = p % P;
      ctx.strokeRect(ce[c] * s + 1, re[r] * s + 1, (ce[c + 1] - ce[c]) * s - 2, (re[r + 1] - re[r]) * s - 2);
    }
  }

  function drawOriginal() {
    const w = model.get("width"), h = model.get("height");
    drawScaled(cA, bytesOf(model.get("image")), w, h, SIZE);
    stage.style.width = cA.style.width;
    stage.style.height = cA.style.height;
    overlay.textContent = "";
    const P = model.get("grid_size"), re = model.get("row_edges"), ce = model.get("col_edges");
    if (re.length !== P + 1 || ce.length !== P + 1) return;
    const s = SIZE / Math.max(1, w);
    for (const p of model.get("patches")) {
      const r = Math.floor(p / P), c = p % P;
      const cell = document.createElement("div");
      cell.className = "prsg-cell";
      cell.dataset.patch = String(p);
      cell.title = `patch ${p}: toggle it in the target set T`;
      cell.style.left = ce[c] * s + "px";
      cell.style.top = re[r] * s + "px";
      cell.style.width = (ce[c + 1] - ce[c]) * s + "px";
      cell.style.height = (re[r + 1] - re[r]) * s + "px";
      cell.addEventListener("click", () => {
        const t = new Set(model.get("target"));
        if (t.has(p)) t.delete(p); else t.add(p);
        model.set("target", Array.from(t).sort((a, b) => a - b));
        model.save_changes();
        updateTarget();
      });
      overlay.appendChild(cell);
    }
    updateTarget();
  }

  function updateTarget() {
    const t = new Set(model.get("target"));
    for (const cell of overlay.children) cell.classList.toggle("target", t.has(Number(cell.dataset.patch)));
    root.dataset.target = Array.from(t).sort((a, b) => a - b).join(",");
  }

  function drawRecon() {
    const w = model.get("width"), h = model.get("height");
    const ctx = drawScaled(cB, bytesOf(model.get("recon")), w, h, SIZE);
    outline(ctx, model.get("target"), "#e8590c");
    const step = model.get("step"), steps = model.get("steps");
    tB.textContent = steps ? `x̂ with the top ${step} of ${steps} components` : "reconstruction";
    drawPlot();
  }

  function drawPlot() {
    const W = 200, H = 132, L = 38, B = 20, T = 8, R = 8;
    plot.width = W;
    plot.height = H;
    const ctx = plot.getContext("2d");
    ctx.clearRect(0, 0, W, H);
    const rmse = model.get("rmse"), other = model.get("rmse_other");
    const step = model.get("step"), steps = model.get("steps"), tol = model.get("tolerance");
    const status = model.get("status");
    root.dataset.step = String(step);
    root.dataset.steps = String(steps);
    root.dataset.status = status;
    const cur = rmse.length > step ? rmse[step] : null;
    root.dataset.rmse = cur === null ? "" : String(cur);
    if (!rmse.length) {
      ctx.fillStyle = "#777";
      ctx.font = "11px sans-serif";
      ctx.fillText(status.startsWith("waiting") ? "waiting for the solve…" : "no reconstruction yet", 8, H / 2);
      text.textContent = status;
      return;
    }
    const vals = rmse.concat(other.filter((v) => v >= 0));
    const ymax = Math.max(1e-9, ...vals) * 1.05;
    const xs = (i) => L + (i / Math.max(1, steps)) * (W - L - R);
    const ys = (v) => H - B - (v / ymax) * (H - B - T);
    ctx.strokeStyle = "#999";
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(L, T);
    ctx.lineTo(L, H - B);
    ctx.lineTo(W - R, H - B);
    ctx.stroke();
    ctx.fillStyle = "#777";
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
    line(rmse, "#e8590c");
    if (cur !== null) {
      ctx.fillStyle = "#1c7ed6";
      ctx.beginPath();
      ctx.arc(xs(step), ys(cur), 4, 0, 2 * Math.PI);
      ctx.fill();
    }
    const o = other.length > step && other[step] >= 0 ? other[step].toFixed(4) : "–";
    text.innerHTML = `RMSE on T: <b>${cur.toFixed(4)}</b> · elsewhere: ${o}<br>` +
      `<span style="color:#2f9e44">- - √ε = ${tol.toFixed(4)}</span> (solver tolerance)`;
  }

  model.on("change:image", drawOriginal);
  model.on("change:patches", drawOriginal);
  model.on("change:row_edges", drawOriginal);
  model.on("change:target", () => { updateTarget(); drawRecon(); });
  model.on("change:recon", drawRecon);
  model.on("change:step", drawRecon);
  model.on("change:steps", drawRecon);
  model.on("change:rmse", drawPlot);
  model.on("change:status", drawPlot);
  drawOriginal();
  drawRecon();
}

export default { render };
