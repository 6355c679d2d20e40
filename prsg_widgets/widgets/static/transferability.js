// PairView: two images with the patches N, their top-k action fields as chips (matched ones
// highlighted in both), the ratio |A_a ∩ A_b| / k_a. Hover a chip to outline its action field.

function bytesOf(v) {
  if (!v) return new Uint8ClampedArray(0);
  if (v instanceof DataView) return new Uint8ClampedArray(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
  if (v instanceof ArrayBuffer) return new Uint8ClampedArray(v.slice(0));
  if (ArrayBuffer.isView(v)) return new Uint8ClampedArray(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
  return new Uint8ClampedArray(0);
}

const key = (s) => s.join(",");

function render({ model, el }) {
  const SIZE = 160;
  const root = document.createElement("div");
  root.className = "prsg-widget prsg-pairview";
  const ratio = document.createElement("div");
  ratio.className = "prsg-ratio";
  const pair = document.createElement("div");
  pair.className = "prsg-pair";
  root.append(ratio, pair);
  el.appendChild(root);

  const sides = ["a", "b"].map((which) => {
    const col = document.createElement("div");
    col.className = "prsg-pair-col";
    col.dataset.side = which;
    const title = document.createElement("div");
    title.className = "prsg-title";
    const canvas = document.createElement("canvas");
    canvas.className = "prsg-pix";
    const sub = document.createElement("div");
    sub.className = "prsg-msg";
    const chips = document.createElement("div");
    chips.className = "prsg-chips";
    col.append(title, canvas, sub, chips);
    pair.appendChild(col);
    return { which, col, title, canvas, sub, chips };
  });

  let highlight = null; // action field under the pointer

  function drawImage(side) {
    const w = model.get("width"), h = model.get("height");
    const data = bytesOf(model.get("image_" + side.which));
    const dispH = Math.round((h / Math.max(1, w)) * SIZE);
    const cv = side.canvas;
    cv.width = SIZE;
    cv.height = dispH;
    cv.style.width = SIZE + "px";
    cv.style.height = dispH + "px";
    const ctx = cv.getContext("2d");
    ctx.fillStyle = "#bbb";
    ctx.fillRect(0, 0, SIZE, dispH);
    if (w > 0 && h > 0 && data.length === w * h * 4) {
      const off = document.createElement("canvas");
      off.width = w;
      off.height = h;
      off.getContext("2d").putImageData(new ImageData(data, w, h), 0, 0);
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(off, 0, 0, SIZE, dispH);
    }
    const P = model.get("grid_size"), re = model.get("row_edges"), ce = model.get("col_edges");
    if (re.length !== P + 1) return;
    const s = SIZE / Math.max(1, w);
    const rect = (p, color, lw) => {
      const r = Math.floor(p / P), c = p % P;
      ctx.strokeStyle = color;
      ctx.lineWidth = lw;
      ctx.strokeRect(ce[c] * s + lw / 2, re[r] * s + lw / 2, (ce[c + 1] - ce[c]) * s - lw, (re[r + 1] - re[r]) * s - lw);
    };
    for (const p of model.get("patches")) rect(p, "rgba(255,255,255,0.8)", 1);
    if (highlight) {
      const matched = new Set(model.get("matched").map(key)).has(key(highlight));
      const inThis = new Set(model.get("top_" + side.which).map(key)).has(key(highlight));
      if (inThis) for (const p of highlight) rect(p, matched ? "#2f9e44" : "#e8590c", 3);
    }
  }

  function chipFor(field, matched) {
    const P = model.get("grid_size");
    const patches = model.get("patches");
    // mini map of the bounding rows/cols of N, action-field cells filled
    const rows = patches.map((p) => Math.floor(p / P)), cols = patches.map((p) => p % P);
    const r0 = Math.min(...rows), r1 = Math.max(...rows), c0 = Math.min(...cols), c1 = Math.max(...cols);
    const chip = document.createElement("div");
    chip.className = "prsg-chip" + (matched ? " matched" : "");
    chip.style.gridTemplateColumns = `repeat(${c1 - c0 + 1}, 5px)`;
    chip.dataset.field = key(field);
    chip.title = `A(S) = {${field.join(", ")}}` + (matched ? " — found in both images" : "");
    const inField = new Set(field), inN = new Set(patches);
    for (let r = r0; r <= r1; r++) {
      for (let c = c0; c <= c1; c++) {
        const p = r * P + c;
        const i = document.createElement("i");
        if (inField.has(p)) i.className = "on";
        else if (inN.has(p)) i.className = "n";
        chip.appendChild(i);
      }
    }
    chip.addEventListener("pointerenter", () => { highlight = field; sides.forEach(drawImage); });
    chip.addEventListener("pointerleave", () => { highlight = null; sides.forEach(drawImage); });
    return chip;
  }

  function update() {
    const matched = new Set(model.get("matched").map(key));
    const r = model.get("ratio");
    const status = model.get("status");
    for (const side of sides) {
      const top = model.get("top_" + side.which);
      side.title.textContent = model.get("label_" + side.which) || `image ${side.which}`;
      const k = model.get("k_" + side.which);
      side.sub.textContent = top.length ? `top ${k} action field${k === 1 ? "" : "s"}` + (side.which === "a" ? ` · ${matched.size} found in b` : "") : status;
      side.chips.textContent = "";
      for (const f of top) side.chips.appendChild(chipFor(f, matched.has(key(f))));
      drawImage(side);
    }
    if (r >= 0) {
      const pct = (100 * r).toFixed(1);
      ratio.innerHTML = `|A<sub>a</sub> ∩ A<sub>b</sub>| / k<sub>a</sub> = ${matched.size} / ${model.get("k_a")} = ${pct}% ` +
        `<small>(chance ${(100 * model.get("chance")).toFixed(1)}%)</small>`;
    } else {
      ratio.innerHTML = `<small>${status || "waiting for both explanations"}</small>`;
    }
    root.dataset.ratio = r >= 0 ? String(r) : "";
    root.dataset.matched = String(matched.size);
    root.dataset.ka = String(model.get("k_a"));
    root.dataset.kb = String(model.get("k_b"));
    root.dataset.labelB = model.get("label_b");
    root.dataset.status = status;
  }

  for (const name of ["image_a", "image_b", "top_a", "top_b", "matched", "ratio", "status", "label_a", "label_b", "patches", "k_a", "k_b"]) {
    model.on("change:" + name, update);
  }
  update();
}

export default { render };
