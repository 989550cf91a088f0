// The web console: reads the server's public HTTP/JSON API (same origin) and
// draws what it answers. Everything shown comes from the server: no number
// is computed here except bar lengths. Text goes in with textContent only
// (never innerHTML), so nothing a server or a customer record holds can run.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
let MODEL = "santander";  // replaced by /console/config.json
const PSI_BARS = 20;  // features drawn in the drift panel, largest PSI first

function $(id) { return document.getElementById(id); }

function el(tag, attrs, text) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4))
                                      : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

function showMessage(text, kind) {
  const box = $("message");
  box.textContent = text;
  box.className = kind || "error";
  box.hidden = !text;
}

// GET or POST JSON; throws an Error whose message is the server's message
// (the gateway's JSON errors name the field and the value).
async function api(path, body) {
  const init = body === undefined ? {} : {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)};
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    throw new Error("the server cannot be reached (" + e.message + ")");
  }
  let json = null;
  try { json = await response.json(); } catch (e) { json = null; }
  if (!response.ok) {
    const reason = json && json.message ? json.message : "HTTP " + response.status;
    const error = new Error(reason);
    error.status = response.status;
    throw error;
  }
  return json;
}

function kvRows(tbody, pairs) {
  clear(tbody);
  for (const [k, v] of pairs) {
    const tr = el("tr");
    tr.appendChild(el("th", {}, k));
    tr.appendChild(el("td", {}, v));
    tbody.appendChild(tr);
  }
}

// "2016-05" + n months.
function addMonths(month, n) {
  const [y, m] = month.split("-").map(Number);
  const index = y * 12 + (m - 1) + n;
  return Math.floor(index / 12) + "-" + String(index % 12 + 1).padStart(2, "0");
}

// ---------------------------------------------------------------- customer

const RECORD_FIELDS = [
  "fecha_dato", "ind_empleado", "pais_residencia", "sexo", "age", "fecha_alta", "ind_nuevo",
  "antiguedad", "indrel", "ult_fec_cli_1t", "indrel_1mes", "tiprel_1mes", "indresi", "indext",
  "conyuemp", "canal_entrada", "indfall", "tipodom", "cod_prov", "nomprov",
  "ind_actividad_cliente", "renta", "segmento"];

function camel(name) { return name.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase()); }

function showCustomer(customer) {
  $("customer-id").textContent = customer.ncodpers;
  const record = customer.record || {};
  const pairs = [];
  for (const field of RECORD_FIELDS) {
    const v = record[camel(field)];
    if (v === undefined || v === null || v === "") continue;
    pairs.push([field, field === "renta" ? Number(v).toFixed(2) : v]);
  }
  kvRows($("demographics").tBodies[0], pairs);
  $("record-month").textContent = customer.recordMonth ? "(record of " + customer.recordMonth + ")" : "";
  $("no-record").hidden = Boolean(customer.recordMonth);

  const history = customer.history || [];
  const table = $("history");
  clear(table.tHead);
  clear(table.tBodies[0]);
  $("history-month").textContent = customer.historyMonth ? "(history up to " + customer.historyMonth + ")" : "";
  $("no-history").hidden = history.length > 0;
  if (history.length === 0) return;
  const months = history.map(h => addMonths(customer.historyMonth, -(h.monthsAgo || 0)));
  const head = el("tr");
  head.appendChild(el("th", {}, "product"));
  for (const m of months) head.appendChild(el("th", {}, m));
  table.tHead.appendChild(head);
  const products = [];
  for (const h of history) for (const p of h.products || []) if (!products.includes(p)) products.push(p);
  products.sort();
  for (const p of products) {
    const tr = el("tr", {"data-product": p});
    tr.appendChild(el("td", {}, p));
    for (const h of history) {
      const owned = (h.products || []).includes(p);
      tr.appendChild(el("td", {"class": owned ? "owned" : ""}, owned ? "\u25cf" : ""));
    }
    table.tBodies[0].appendChild(tr);
  }
  if (products.length === 0) {
    const tr = el("tr");
    tr.appendChild(el("td", {colspan: months.length + 1}, "owned nothing in these months"));
    table.tBodies[0].appendChild(tr);
  }
}

// The request the page sends: the stored record, scored for the month the
// serving history serves (the month after Customer.historyMonth), with no
// history in the request, so that the server reads it from its own store
// (the answer any client gets for this customer), and explained.
function recommendRequest(customer) {
  const record = Object.assign({}, customer.record || {});
  record.ncodpers = String(customer.ncodpers);
  if (customer.historyMonth) record.fechaDato = addMonths(customer.historyMonth, 1) + "-28";
  return {customer: record, k: 7, explain: true};
}

// ----------------------------------------------------------- recommendation

function barChart(svg, rows, options) {
  // rows: [{label, value, ref (optional), cls, attrs}]
  clear(svg);
  const rowH = options.rowHeight || 22, labelW = options.labelWidth || 220, width = 720;
  const valueW = 70, barW = width - labelW - valueW - 10;
  // options.cap: the scale stops there; longer bars are cut at the end
  // (their number is still printed).
  let max = Math.max(options.max || 0, ...rows.map(r => Math.max(r.value, r.ref || 0))) || 1;
  if (options.cap) max = Math.min(max, options.cap);
  const height = rows.length * rowH + 20;
  svg.setAttribute("viewBox", "0 0 " + width + " " + height);
  rows.forEach((r, i) => {
    const y = i * rowH + 4;
    const g = el("svg:g", Object.assign({"class": "row"}, r.attrs || {}));
    g.appendChild(el("svg:text", {x: 0, y: y + rowH * 0.6, "class": "label"}, r.label));
    if (r.ref !== undefined) {
      g.appendChild(el("svg:rect", {x: labelW, y: y + rowH * 0.55, height: rowH * 0.3,
        width: Math.max(0, barW * Math.min(r.ref, max) / max), "class": "ref"}));
    }
    g.appendChild(el("svg:rect", {x: labelW, y: y + 2, height: r.ref !== undefined ? rowH * 0.45 : rowH - 6,
      width: Math.max(0, barW * Math.min(r.value, max) / max), "class": "bar " + (r.cls || "")}));
    g.appendChild(el("svg:text", {x: width - valueW, y: y + rowH * 0.6, "class": "value"}, r.text));
    svg.appendChild(g);
  });
  for (const line of options.lines || []) {
    if (line.at > max) continue;
    const x = labelW + barW * line.at / max;
    svg.appendChild(el("svg:line", {x1: x, x2: x, y1: 0, y2: height - 14, "class": line.cls}));
    svg.appendChild(el("svg:text", {x: x + 2, y: height - 2}, line.label));
  }
}

function showRecommendations(answer) {
  const recs = answer.recommendations || [];
  $("answer-info").textContent = "(model version " + answer.modelVersion + ", month " +
      answer.fechaDato + ", history " + String(answer.historySource).replace("HISTORY_SOURCE_", "").toLowerCase() + ")";
  barChart($("chart"), recs.map(r => ({
    label: r.rank + ". " + r.englishName, value: r.score, text: r.score.toFixed(4),
    attrs: {"data-product": r.product, "data-score": r.score, "data-rank": r.rank}})),
    {labelWidth: 260, max: 0});
  const box = $("explanations");
  clear(box);
  for (const r of recs) {
    const d = el("details", {"class": "explanation", "data-product": r.product});
    if (r.rank === 1) d.open = true;
    d.appendChild(el("summary", {}, r.rank + ". " + r.englishName + " (" + r.product + "): " + r.score.toFixed(4)));
    const e = r.explanation;
    if (!e || !e.features || e.features.length === 0) {
      d.appendChild(el("p", {"class": "note"}, "The server sent no explanation for this product."));
      box.appendChild(d);
      continue;
    }
    d.appendChild(el("p", {"class": "note"}, "margin " + Number(e.margin).toFixed(4) + " = bias " +
        Number(e.bias).toFixed(4) + " + the features below + others " +
        Number(e.othersContribution || 0).toFixed(4) + " (log-odds)"));
    const table = el("table", {"class": "contributions"});
    const head = el("tr");
    for (const h of ["feature", "value", "raw", "contribution"]) head.appendChild(el("th", {}, h));
    table.appendChild(head);
    for (const f of e.features) {
      const tr = el("tr", {"class": "contribution", "data-feature": f.feature, "data-contribution": f.contribution});
      tr.appendChild(el("td", {}, f.feature));
      tr.appendChild(el("td", {"class": "num"}, f.value === undefined || f.value === null ? "missing" : f.value));
      tr.appendChild(el("td", {}, f.rawColumn ? f.rawColumn + " = " + JSON.stringify(f.rawValue || "") : ""));
      const c = Number(f.contribution);
      tr.appendChild(el("td", {"class": "num " + (c >= 0 ? "up" : "down")}, (c >= 0 ? "+" : "") + c.toFixed(4)));
      table.appendChild(tr);
    }
    d.appendChild(table);
    const svg = el("svg:svg", {"class": "contribution-chart"});
    d.appendChild(svg);
    const rows = e.features.map(f => ({label: f.feature, value: Math.abs(Number(f.contribution)),
        text: (Number(f.contribution) >= 0 ? "+" : "") + Number(f.contribution).toFixed(4),
        cls: Number(f.contribution) >= 0 ? "pos" : "neg"}));
    barChart(svg, rows, {labelWidth: 300, rowHeight: 18});
    box.appendChild(d);
  }
}

async function search(text) {
  const id = text.trim();
  $("customer-panel").hidden = true;
  $("recommendation-panel").hidden = true;
  if (id === "") { showMessage("Type a customer code (ncodpers), e.g. 15889."); return; }
  showMessage("Looking up customer " + id + "\u2026", "info");
  let customer;
  try {
    customer = await api("/v1/customers/" + encodeURIComponent(id));
  } catch (e) {
    showMessage((e.status === 404 ? "Unknown customer: " : "Bad customer id: ") + e.message);
    return;
  }
  showCustomer(customer);
  $("customer-panel").hidden = false;
  try {
    const answer = await api("/v1/models/" + encodeURIComponent(MODEL) + ":recommend", recommendRequest(customer));
    showRecommendations(answer);
    $("recommendation-panel").hidden = false;
    showMessage("");
  } catch (e) {
    showMessage("The server could not score customer " + id + ": " + e.message);
  }
  refreshDrift();
}

// ------------------------------------------------------------ model, drift

async function refreshModel() {
  try {
    const info = await api("/v1/models/" + encodeURIComponent(MODEL));
    const m = info.model || {}, v = m.validationMetrics || {};
    kvRows($("model").tBodies[0], [
      ["model", m.name], ["serving version", m.version],
      ["validation MAP@7", Number(v.modelMapAt7 || 0).toFixed(5) + " (month " + m.validationMonth + ")"],
      ["popularity baseline MAP@7", Number(v.popularityMapAt7 || 0).toFixed(5)],
      ["trained on", (m.trainingMonths || []).length + " months to " + (m.trainingMonths || []).slice(-1)[0]],
      ["history serving", (m.servingHistoryMonth || "") + " (" + (m.servingHistorySource || "") + ")"],
      ["predictor", m.predictor],
      ["challenger", m.challengerVersion ? m.challengerVersion + " for " + (100 * m.challengerShare).toFixed(0) + "% of customers" : "none"]]);
    const tbody = $("versions").tBodies[0];
    clear(tbody);
    for (const ver of (info.versions || {}).versions || []) {
      const tr = el("tr", {"data-version": ver.version});
      tr.appendChild(el("td", {}, ver.version));
      tr.appendChild(el("td", {}, String(ver.state).replace("VERSION_STATE_", "")));
      tr.appendChild(el("td", {}, ver.loadedTime ? ver.loadedTime.replace("T", " ").replace(/\.\d+Z$|Z$/, "") : ""));
      tr.appendChild(el("td", {}, ver.pinned ? "pinned" : ""));
      tbody.appendChild(tr);
    }
  } catch (e) {
    kvRows($("model").tBodies[0], [["model", "not available: " + e.message]]);
  }
  try {
    const reloads = await api("/v1/models/" + encodeURIComponent(MODEL) + "/reloads");
    const tbody = $("reloads").tBodies[0];
    clear(tbody);
    const events = (reloads.events || []).slice().reverse();  // newest first
    for (const e of events) {
      let what = "";
      if (e.kind === "loaded") what = "version " + e.version + " loaded in " + Number(e.seconds).toFixed(2) + " s";
      else if (e.kind === "failed") what = "version " + e.version + " FAILED to load (reason: admin API)";
      else if (e.kind === "swap") what = "version " + e.version + " serves" + (e.previous !== "0" ? " (was " + e.previous + ")" : "");
      else if (e.kind === "challenger") what = e.version !== "0" ? "challenger " + e.version + " for " + (100 * e.share).toFixed(0) + "%" : "challenger cleared";
      const tr = el("tr", {"class": "reload " + e.kind});
      tr.appendChild(el("td", {}, e.time.replace("T", " ").replace("Z", "")));
      tr.appendChild(el("td", {}, what));
      tbody.appendChild(tr);
    }
  } catch (e) { /* the model panel shows the error */ }
}

async function refreshDrift() {
  let d;
  try {
    d = await api("/v1/models/" + encodeURIComponent(MODEL) + "/drift");
  } catch (e) {
    $("drift-note").textContent = "Drift not available: " + e.message;
    $("drift-note").hidden = false;
    return;
  }
  $("drift-info").textContent = d.month ? "(version " + d.version + ", month " + d.month + ": " +
      d.rowsSampled + " rows sampled of " + d.rowsSeen + " served)" : "";
  const withPsi = (d.features || []).filter(f => f.psi !== null && f.psi !== undefined);
  const note = $("drift-note");
  const t = d.thresholds || {moderate: 0.1, major: 0.25};
  withPsi.sort((a, b) => b.psi - a.psi);
  // The features that moved most; the rest are counted in the note.
  const shown = withPsi.slice(0, PSI_BARS);
  const rest = withPsi.slice(PSI_BARS);
  if (withPsi.length === 0) {
    note.textContent = !d.serving ? "No model serves yet." : "PSI is shown once a month's sample holds " +
        d.minRows + " rows" + (d.month ? " (" + d.rowsSampled + " so far for " + d.month + ")." : "; no rows served yet.");
  } else {
    const over = withPsi.filter(f => f.psi >= t.major).length;
    const moderate = withPsi.filter(f => f.psi >= t.moderate && f.psi < t.major).length;
    note.textContent = withPsi.length + " features: " + over + " above " + t.major + " (major shift), " +
        moderate + " between " + t.moderate + " and " + t.major + (rest.length ? "; the " + shown.length +
        " largest are drawn, the other " + rest.length + " have PSI \u2264 " + rest[0].psi.toFixed(3) : "") +
        ". Bars are cut at 1.0.";
  }
  note.hidden = false;
  const rows = shown.map(f => ({label: f.feature, value: f.psi, text: f.psi.toFixed(3),
      cls: f.psi >= t.major ? "neg" : f.psi >= t.moderate ? "warn" : "",
      attrs: {"data-feature": f.feature, "data-psi": f.psi}}));
  if (d.predictionPsi !== null && d.predictionPsi !== undefined) {
    rows.unshift({label: "top-1 product", value: d.predictionPsi, text: d.predictionPsi.toFixed(3),
                  attrs: {"data-feature": "prediction", "data-psi": d.predictionPsi}});
  }
  barChart($("psi-chart"), rows, {labelWidth: 300, rowHeight: 18, max: t.major * 1.2, cap: 1.0,
      lines: [{at: t.moderate, cls: "line-moderate", label: String(t.moderate)},
              {at: t.major, cls: "line-major", label: String(t.major)}]});
  const mix = (d.predictionMix || []).filter(p => p.share > 0 || p.reference > 0);
  mix.sort((a, b) => b.reference - a.reference);
  barChart($("mix-chart"), mix.map(p => ({label: p.englishName, value: p.share, ref: p.reference,
      text: (100 * p.share).toFixed(1) + "%", attrs: {"data-product": p.product, "data-share": p.share}})),
      {labelWidth: 220, rowHeight: 20});
}

async function start() {
  try {
    const config = await api("/console/config.json");
    if (config && config.model) MODEL = config.model;
  } catch (e) { /* keep the default name */ }
  $("search").addEventListener("submit", event => {
    event.preventDefault();
    search($("ncodpers").value);
  });
  const fromHash = decodeURIComponent(location.hash.replace(/^#/, ""));
  refreshModel();
  refreshDrift();
  if (fromHash) { $("ncodpers").value = fromHash; search(fromHash); }
}

document.addEventListener("DOMContentLoaded", start);
