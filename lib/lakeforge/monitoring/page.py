"""The dashboard's page: plain HTML and a little JavaScript drawing line charts on canvases (no CDN, so
it works offline and behind a firewall), refreshed by polling /api/snapshot."""

from __future__ import annotations

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Lakeforge dashboard</title>
<style>
 body { font-family: system-ui, sans-serif; margin: 1rem 2rem; color: #222; }
 section { display: inline-block; vertical-align: top; width: 46%; margin: 0 2% 1.5rem 0; }
 canvas { width: 100%; height: 220px; border: 1px solid #ddd; }
 table { border-collapse: collapse; font-size: 0.85rem; } td, th { padding: 2px 8px; border-bottom: 1px solid #eee; text-align: left; }
 .breached { color: #b00020; font-weight: bold; } ul { font-size: 0.85rem; max-height: 220px; overflow-y: auto; }
 #updated { color: #888; font-size: 0.8rem; }
</style></head><body>
<h1>Lakeforge</h1><p id="updated">waiting for data...</p>
<section><h2>IoT device windows <span id="iot-metric"></span></h2><canvas id="iot-chart" data-points="0"></canvas></section>
<section><h2>IoT alerts</h2><ul id="iot-alerts"></ul></section>
<section><h2>Model quality per window</h2><canvas id="quality-chart" data-points="0"></canvas></section>
<section><h2>Feature drift (PSI) per window</h2><canvas id="drift-chart" data-points="0"></canvas></section>
<section><h2>Pipeline freshness</h2><table id="freshness"><tr><th>table</th><th>age (min)</th><th>SLA (min)</th><th>detail</th></tr></table></section>
<section><h2>Monitoring alerts</h2><ul id="alerts"></ul></section>
<script>
const REFRESH_MS = __REFRESH_MS__;
const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];

function lineChart(canvas, series) {
  const ctx = canvas.getContext("2d"), w = canvas.width = canvas.clientWidth, h = canvas.height = canvas.clientHeight;
  ctx.clearRect(0, 0, w, h);
  const points = Object.values(series).flat();
  canvas.dataset.points = points.length;
  if (!points.length) { ctx.fillText("no data yet", 10, 20); return; }
  const xs = points.map(p => p[0]), ys = points.map(p => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const px = x => 40 + (w - 50) * (x1 > x0 ? (x - x0) / (x1 - x0) : 0.5), py = y => h - 20 - (h - 30) * (y1 > y0 ? (y - y0) / (y1 - y0) : 0.5);
  ctx.fillStyle = "#555"; ctx.fillText(y1.toPrecision(3), 2, 12); ctx.fillText(y0.toPrecision(3), 2, h - 22);
  Object.entries(series).forEach(([name, data], i) => {
    ctx.strokeStyle = ctx.fillStyle = COLOURS[i % COLOURS.length]; ctx.beginPath();
    data.forEach(([x, y], j) => j ? ctx.lineTo(px(x), py(y)) : ctx.moveTo(px(x), py(y))); ctx.stroke();
    ctx.fillText(name, 45 + 90 * i, h - 5);
  });
}

function group(rows, key, x, y) {
  const series = {};
  rows.filter(r => r[y] != null).forEach(r => (series[r[key]] = series[r[key]] || []).push([Date.parse(r[x]), r[y]]));
  return series;
}

function fillList(list, items, id, text) {
  const known = new Set([...list.children].map(li => li.dataset.id));
  items.slice().reverse().forEach(item => {
    if (known.has(id(item))) return;
    const li = document.createElement("li"); li.dataset.id = id(item); li.textContent = text(item); list.prepend(li);
  });
}

async function refresh() {
  const response = await fetch("/api/snapshot", {credentials: "same-origin"});
  if (!response.ok) { document.getElementById("updated").textContent = "error " + response.status; return; }
  const s = await response.json();
  document.getElementById("iot-metric").textContent = s.iot_windows.metric ? "(" + s.iot_windows.metric + ")" : "";
  lineChart(document.getElementById("iot-chart"), group(s.iot_windows.rows, "device_id", "window_start", "value"));
  fillList(document.getElementById("iot-alerts"), s.iot_alerts, a => a.alert_id,
           a => `${a.event_time} ${a.device_id} ${a.metric} ${a.rule} value ${a.value}`);
  const quality = {};
  ["roc_auc", "f1", "precision", "recall", "rmse"].forEach(m => Object.entries(group(s.quality, "model_version", "window_start", m))
    .forEach(([v, d]) => quality[m + " v" + v] = d));
  lineChart(document.getElementById("quality-chart"), quality);
  lineChart(document.getElementById("drift-chart"), group(s.drift, "feature", "window_start", "psi"));
  const table = document.getElementById("freshness");
  [...table.querySelectorAll("tr.row")].forEach(tr => tr.remove());
  s.freshness.forEach(f => {
    const tr = table.insertRow(); tr.className = "row" + ((f.usage === null || f.usage > 1) ? " breached" : "");
    [f.subject, f.value === null ? "never" : f.value.toFixed(1), f.limit, f.detail].forEach(v => tr.insertCell().textContent = v);
  });
  fillList(document.getElementById("alerts"), s.alerts, a => a.raised_at + a.message, a => `${a.raised_at} [${a.severity}] ${a.message}`);
  document.getElementById("updated").textContent = "updated " + new Date().toISOString();
}

// The next poll waits for this one: a slow snapshot never piles requests up.
async function poll() { try { await refresh(); } finally { setTimeout(poll, REFRESH_MS); } }
poll();
</script></body></html>
"""


def page(refresh_seconds: float) -> str:
    return TEMPLATE.replace("__REFRESH_MS__", str(int(refresh_seconds * 1000)))
