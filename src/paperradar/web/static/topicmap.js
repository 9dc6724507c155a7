// The topic map: papers as dots on a canvas, coloured by broad topic, labelled; hover shows a
// paper's title, click opens it; highlighted papers (a search, a profile, ?topic=ID) drawn on top.
// Plain JS, no library: the data comes from the page's JSON twin (/api/map).
(function () {
  "use strict";
  const canvas = document.getElementById("map");
  if (!canvas || canvas.dataset.ready !== "yes") return;
  const tip = document.getElementById("map-tip");
  const status = document.getElementById("map-status");
  const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#bcbd22", "#7f7f7f", "#aec7e8"];
  const wantTopic = Number(new URLSearchParams(location.search).get("topic")) || null;
  let data = null, view = null, grid = null, hover = null;

  fetch(canvas.dataset.api, { headers: { Accept: "application/json" } })
    .then((r) => r.json())
    .then((d) => {
      if (!d.ok) throw new Error(d.error || "could not load the map");
      data = prepare(d);
      draw();
      const hits = data.points.filter((p) => p.hit).length;
      status.textContent = `${d.points.length.toLocaleString()} of ${d.total.toLocaleString()} papers` +
        (hits ? ` · ${hits.toLocaleString()} highlighted` : "");
      canvas.dataset.drawn = "yes";
    })
    .catch((e) => { status.textContent = String(e.message || e); });

  function prepare(d) {
    const byId = new Map(d.topics.map((t) => [t.id, t]));
    const broad = d.topics.filter((t) => t.level === "broad").sort((a, b) => b.size - a.size);
    const colour = new Map(broad.map((t, i) => [t.id, PALETTE[i % PALETTE.length]]));
    for (const p of d.points) {
      const t = byId.get(p.topic);
      p.colour = colour.get(t ? t.parent : null) || "#999";
      if (wantTopic && (p.topic === wantTopic || (t && t.parent === wantTopic))) p.hit = true;
    }
    return { ...d, broad, fine: d.topics.filter((t) => t.level === "fine") };
  }

  function fit() {
    const ratio = window.devicePixelRatio || 1;
    const w = canvas.clientWidth, h = canvas.clientHeight;
    canvas.width = w * ratio; canvas.height = h * ratio;
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const p of data.points) {
      x0 = Math.min(x0, p.x); x1 = Math.max(x1, p.x); y0 = Math.min(y0, p.y); y1 = Math.max(y1, p.y);
    }
    const pad = 24, s = Math.min((w - 2 * pad) / (x1 - x0 || 1), (h - 2 * pad) / (y1 - y0 || 1));
    const ox = (w - s * (x1 - x0)) / 2 - s * x0, oy = (h - s * (y1 - y0)) / 2 + s * y1;
    view = { ratio, sx: (x) => ox + s * x, sy: (y) => oy - s * y };
  }

  function draw() {
    fit();
    const ctx = canvas.getContext("2d");
    ctx.setTransform(view.ratio, 0, 0, view.ratio, 0, 0);
    ctx.clearRect(0, 0, canvas.clientWidth, canvas.clientHeight);
    const anyHit = data.points.some((p) => p.hit);
    ctx.globalAlpha = anyHit ? 0.25 : 0.6;
    for (const p of data.points) {
      p.px = view.sx(p.x); p.py = view.sy(p.y);
      ctx.fillStyle = p.colour;
      ctx.fillRect(p.px - 1, p.py - 1, 2.2, 2.2);
    }
    ctx.globalAlpha = 1;
    for (const p of data.points) {
      if (!p.hit) continue;
      ctx.beginPath(); ctx.arc(p.px, p.py, 3.5, 0, 2 * Math.PI);
      ctx.fillStyle = "#d62728"; ctx.fill(); ctx.strokeStyle = "#fff"; ctx.lineWidth = 1; ctx.stroke();
    }
    labels(ctx);
    index();
    if (hover) ring(ctx, hover);
  }

  // Labels never overlap: each is measured as a box; broad topics are placed first (moved down a
  // line or two when they would cover another), then the biggest fine topics where there is room.
  function labels(ctx) {
    const boxes = [];
    window.__mapLabels = [];
    ctx.textAlign = "center";
    ctx.font = "bold 13px system-ui, sans-serif";
    const broad = [];
    for (const t of data.broad) {
      const s = short(t.label, 2);
      for (let k = 0; k < 4; k++) {
        const b = box(ctx, s, view.sx(t.x), view.sy(t.y) + k * 17, 17);
        if (!boxes.some((o) => overlaps(o, b))) { boxes.push(b); broad.push([s, b]); break; }
      }
    }
    ctx.font = "11px system-ui, sans-serif";
    let shown = 0;
    for (const t of data.fine.slice().sort((a, b) => b.size - a.size)) {
      if (shown >= 30) break;
      const s = short(t.label, 1);
      const b = box(ctx, s, view.sx(t.x), view.sy(t.y), 14);
      if (boxes.some((o) => overlaps(o, b))) continue;
      boxes.push(b); shown++;
      text(ctx, s, b, "#333", "rgba(255,255,255,.7)");
    }
    ctx.font = "bold 13px system-ui, sans-serif";
    for (const [s, b] of broad) text(ctx, s, b, "#111", "rgba(255,255,255,.85)");
  }

  // the box a label centred at (x, y) takes, kept inside the canvas (phones)
  function box(ctx, s, x, y, h) {
    const half = ctx.measureText(s).width / 2 + 4;
    x = Math.min(Math.max(x, half), canvas.clientWidth - half);
    y = Math.min(Math.max(y, h), canvas.clientHeight - 4);
    return { x: x, y: y, l: x - half, r: x + half, t: y - h + 3, b: y + 4 };
  }

  function overlaps(a, b) { return a.l < b.r && b.l < a.r && a.t < b.b && b.t < a.b; }

  function text(ctx, s, b, ink, halo) {
    ctx.lineWidth = 4; ctx.strokeStyle = halo; ctx.strokeText(s, b.x, b.y);
    ctx.fillStyle = ink; ctx.fillText(s, b.x, b.y);
    window.__mapLabels.push(b);  // for the browser test
  }

  function short(label, n) { return label.split(", ").slice(0, n).join(", "); }

  function index() {
    grid = new Map();
    for (const p of data.points) {
      const key = `${Math.floor(p.px / 8)},${Math.floor(p.py / 8)}`;
      if (!grid.has(key)) grid.set(key, []);
      grid.get(key).push(p);
    }
  }

  function nearest(x, y) {
    let best = null, bestD = 49;
    const gx = Math.floor(x / 8), gy = Math.floor(y / 8);
    for (let i = -1; i <= 1; i++) for (let j = -1; j <= 1; j++) {
      for (const p of grid.get(`${gx + i},${gy + j}`) || []) {
        const d = (p.px - x) ** 2 + (p.py - y) ** 2 - (p.hit ? 20 : 0);
        if (d < bestD) { bestD = d; best = p; }
      }
    }
    return best;
  }

  function ring(ctx, p) {
    ctx.beginPath(); ctx.arc(p.px, p.py, 6, 0, 2 * Math.PI);
    ctx.strokeStyle = "#111"; ctx.lineWidth = 2; ctx.stroke();
  }

  // for the browser tests: where each paper was drawn (CSS pixels inside the canvas)
  window.topicMap = { points: () => (data ? data.points.map((p) => ({ id: p.id, title: p.title, x: p.px, y: p.py, hit: !!p.hit })) : []) };

  canvas.addEventListener("mousemove", (e) => {
    if (!data) return;
    const r = canvas.getBoundingClientRect();
    const p = nearest(e.clientX - r.left, e.clientY - r.top);
    if (p !== hover) { hover = p; draw(); }
    if (!p) { tip.hidden = true; canvas.style.cursor = "crosshair"; return; }
    const topic = data.topics.find((t) => t.id === p.topic);
    tip.textContent = "";
    const b = document.createElement("strong"); b.textContent = p.title || p.id; tip.appendChild(b);
    const small = document.createElement("div"); small.textContent = `${p.id} · ${topic ? topic.label : ""}`;
    tip.appendChild(small);
    tip.hidden = false;
    tip.style.left = Math.min(p.px + 12, canvas.clientWidth - 280) + "px";
    tip.style.top = (p.py + 12) + "px";
    canvas.style.cursor = "pointer";
  });
  canvas.addEventListener("mouseleave", () => { tip.hidden = true; hover = null; if (data) draw(); });
  canvas.addEventListener("click", () => { if (hover) location.href = "/paper/" + encodeURIComponent(hover.id); });
  window.addEventListener("resize", () => { if (data) draw(); });
})();
