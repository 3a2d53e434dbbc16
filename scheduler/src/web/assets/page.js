// The scheduler's live page: renders /api/state and /api/history, polls both every 2 s.
// Everything from the network goes into the DOM as text (textContent), never as markup.
"use strict";
(function () {
  var REFRESH_MS = 2000;
  var FULL_EVERY = 150; // polls between full history reloads (5 min), to resync
  var COLORS = ["#d4722a", "#2a9d8f", "#8e5ad6", "#c0262d", "#3b7d23", "#b08900", "#0e7490"];
  var $ = function (id) { return document.getElementById(id); };
  var svg = $("chart");
  var NS = svg.namespaceURI;
  var hist = { interval_ms: 10000, capacity: 2160, cluster: [], agents: [] };
  var state = null;
  var polls = 0;
  var updates = 0;
  var lastOk = Date.now();
  var down = false;

  function rate(h) {
    var units = ["H/s", "kH/s", "MH/s", "GH/s", "TH/s", "PH/s"];
    var v = isFinite(h) && h > 0 ? h : 0;
    var u = 0;
    while (v >= 1000 && u < units.length - 1) { v /= 1000; u++; }
    return v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2) + " " + units[u];
  }
  function clock(ms) {
    var d = new Date(ms);
    return d.toLocaleTimeString([], { hour12: false });
  }
  function ago(s) {
    if (s === null || s === undefined) return "–";
    if (s < 60) return s.toFixed(1) + " s";
    if (s < 3600) return Math.floor(s / 60) + " min";
    return (s / 3600).toFixed(1) + " h";
  }
  function short(id) {
    var i = id.indexOf("-");
    return i > 0 && id.length > i + 9 ? id.slice(0, i + 9) + "…" : id;
  }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function td(tr, text, cls) { var c = el("td", text, cls); tr.appendChild(c); return c; }
  function stateClass(s) {
    if (s === "TASK_RUNNING") return "pill s-ok";
    if (s === "TASK_STAGING" || s === "TASK_STARTING") return "pill s-wait";
    if (s === "TASK_KILLING" || s === "TASK_UNREACHABLE" || s === "TASK_UNKNOWN") return "pill s-warn";
    return "pill s-bad";
  }
  function pill(tr, s) {
    var c = td(tr);
    c.appendChild(el("span", s ? s.replace("TASK_", "") : "–", stateClass(s)));
  }
  function dl(id, rows) {
    var d = $(id);
    d.replaceChildren();
    rows.forEach(function (r) { d.appendChild(el("dt", r[0])); d.appendChild(el("dd", r[1])); });
  }
  function body(id) { return $(id).tBodies[0]; }
  function hostOf(agentId) {
    var a = (state && state.agents || []).find(function (x) { return x.agent_id === agentId; });
    return a ? a.hostname : agentId;
  }

  function banner() {
    var b = $("banner");
    if (down) {
      b.textContent = "The scheduler does not answer since " + clock(lastOk) +
        ": this is the last state received.";
      b.className = "banner bad";
      b.hidden = false;
    } else if (state && !state.subscribed) {
      b.textContent = "Not subscribed to a Mesos master" +
        (state.master ? " (last: " + state.master + ")" : "") +
        ": the tasks keep running, and their reports come back once the scheduler subscribes again.";
      b.className = "banner";
      b.hidden = false;
    } else {
      b.hidden = true;
    }
  }

  function renderHeader(s) {
    var sub = $("sub");
    sub.textContent = s.subscribed ? "subscribed" : "not subscribed";
    sub.className = s.subscribed ? "pill s-ok" : "pill s-warn";
    $("framework").textContent = "framework " + (s.framework_id || "(none yet)") +
      " · master " + (s.master || "–");
    document.body.setAttribute("data-subscribed", String(s.subscribed));
    var c = s.cluster;
    var big = $("cluster-rate");
    big.textContent = rate(c.hashrate_10s);
    big.setAttribute("data-hps", String(c.hashrate_10s));
    $("cluster-sub").textContent = "1 min " + rate(c.hashrate_1m) + " · 15 min " +
      rate(c.hashrate_15m) + " · " + c.workers + " worker" + (c.workers === 1 ? "" : "s") + " running";
    dl("shares", [["accepted", c.shares_accepted], ["rejected", c.shares_rejected],
      ["stale", c.shares_stale]]);
    var v = s.server;
    var rows = [["kind", v.kind], ["Stratum URL", v.url || "–"]];
    if (v.kind !== "external") {
      rows.push(["state", v.state ? v.state.replace("TASK_", "") : "–"],
        ["connections", v.connections === null || v.connections === undefined ? "–" : v.connections]);
    }
    rows.push(["blocks found", v.blocks_found]);
    if (v.kind === "builtin") {
      rows.push(["node height", v.node_height === null || v.node_height === undefined ? "–" : v.node_height],
        ["node", v.node || "–"]);
    }
    dl("server", rows);
  }

  function renderAgents(s) {
    var tb = body("agents");
    tb.replaceChildren();
    var max = s.agents.reduce(function (m, a) { return Math.max(m, a.hashrate_10s); }, 0);
    s.agents.forEach(function (a) {
      var tr = el("tr");
      tr.setAttribute("data-agent-id", a.agent_id);
      td(tr, a.agent_id);
      td(tr, a.hostname);
      td(tr, a.tasks, "num");
      var c = td(tr);
      var bar = el("span", null, "bar");
      bar.style.width = (max > 0 ? Math.round(120 * a.hashrate_10s / max) : 0) + "px";
      c.appendChild(bar);
      c.appendChild(document.createTextNode(rate(a.hashrate_10s)));
      tb.appendChild(tr);
    });
  }

  function renderTasks(s) {
    var tb = body("tasks");
    tb.replaceChildren();
    s.tasks.forEach(function (t) {
      var tr = el("tr", null, "task");
      tr.setAttribute("data-task-id", t.task_id);
      tr.setAttribute("data-hps", String(t.hashrate_10s));
      var id = td(tr, short(t.task_id));
      id.title = t.task_id;
      td(tr, t.kind);
      td(tr, t.hostname || t.agent_id).title = t.agent_id;
      pill(tr, t.state);
      td(tr, t.healthy === null || t.healthy === undefined ? "–" : t.healthy ? "yes" : "no");
      var worker = t.kind === "worker";
      td(tr, worker && t.threads !== null && t.threads !== undefined ? t.threads : "–", "num");
      td(tr, t.kernel || "–");
      td(tr, worker ? rate(t.hashrate_10s) : "–", "num");
      td(tr, worker ? rate(t.hashrate_1m) : "–", "num");
      td(tr, t.shares_accepted, "num");
      td(tr, t.shares_rejected, "num");
      var age = t.last_report_age_s;
      td(tr, age === null || age === undefined ? "–" : ago(age), "num" + (age > 15 ? " stale" : ""));
      tb.appendChild(tr);
    });
  }

  function renderChanges(s) {
    var tb = body("changes");
    tb.replaceChildren();
    var list = s.changes || [];
    if (!list.length) {
      var tr = el("tr");
      td(tr, "No state change yet.", "sub").colSpan = 9;
      tb.appendChild(tr);
    }
    list.forEach(function (c) {
      var tr = el("tr", null, "change");
      td(tr, c.timestamp_ms ? clock(c.timestamp_ms) : ago(c.age_s) + " ago");
      td(tr, short(c.task_id)).title = c.task_id;
      td(tr, c.kind);
      td(tr, c.hostname || c.agent_id).title = c.agent_id;
      pill(tr, c.from);
      pill(tr, c.state);
      td(tr, c.reason ? c.reason.replace("REASON_", "") : "–");
      td(tr, c.source ? c.source.replace("SOURCE_", "") : "–");
      td(tr, c.message || "", "msg");
      tb.appendChild(tr);
    });
  }

  function renderState(s) {
    state = s;
    renderHeader(s);
    renderAgents(s);
    renderTasks(s);
    renderChanges(s);
    banner();
  }

  // --- the chart -------------------------------------------------------------------------
  var W = 900, H = 260, L = 70, R = 12, T = 12, B = 26;

  function svgEl(tag, attrs, text) {
    var e = document.createElementNS(NS, tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function niceMax(v) {
    if (!(v > 0)) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(v)));
    var steps = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * p >= v) return steps[i] * p;
    return 10 * p;
  }
  // SVG path data of [t, v] pairs; a gap of over 2.5 intervals starts a new segment.
  function pathOf(points, x, y) {
    var gap = hist.interval_ms * 2.5;
    var d = "";
    for (var i = 0; i < points.length; i++) {
      var move = i === 0 || points[i][0] - points[i - 1][0] > gap;
      d += (move ? "M" : "L") + x(points[i][0]).toFixed(1) + "," + y(points[i][1]).toFixed(1);
    }
    return d;
  }

  // Horizontal grid lines with H/s labels, and five clock labels under the chart.
  function drawAxes(x, y, t0, t1, top) {
    for (var i = 0; i <= 4; i++) {
      var v = top * i / 4, yy = y(v);
      svg.appendChild(svgEl("line", { x1: L, x2: W - R, y1: yy, y2: yy, class: "grid" }));
      svg.appendChild(svgEl("text", { x: L - 6, y: yy + 4, "text-anchor": "end", class: "axis" }, rate(v)));
    }
    for (var j = 0; j <= 4; j++) {
      var t = t0 + (t1 - t0) * j / 4;
      var anchor = j === 0 ? "start" : j === 4 ? "end" : "middle";
      svg.appendChild(svgEl("text", { x: x(t), y: H - 8, "text-anchor": anchor, class: "axis" }, clock(t)));
    }
  }

  function legendItem(color, text) {
    var item = el("span");
    var key = el("i");
    key.style.background = color;
    item.appendChild(key);
    item.appendChild(document.createTextNode(text));
    return item;
  }

  function renderChart() {
    var pts = hist.cluster;
    svg.replaceChildren();
    svg.setAttribute("data-points", String(pts.length));
    var legend = $("legend");
    legend.replaceChildren();
    if (!pts.length) {
      svg.appendChild(svgEl("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "empty" },
        "No point yet: one every " + hist.interval_ms / 1000 + " s."));
      return;
    }
    var t0 = pts[0][0], t1 = Math.max(pts[pts.length - 1][0], t0 + hist.interval_ms);
    var top = 0;
    pts.forEach(function (p) { top = Math.max(top, p[1]); });
    var many = hist.agents.length > 1;
    if (many) hist.agents.forEach(function (a) { a.points.forEach(function (p) { top = Math.max(top, p[1]); }); });
    top = niceMax(top);
    var x = function (t) { return L + (t - t0) / (t1 - t0) * (W - L - R); };
    var y = function (v) { return T + (1 - v / top) * (H - T - B); };
    drawAxes(x, y, t0, t1, top);
    var line = pathOf(pts, x, y);
    var first = pts[0], last = pts[pts.length - 1];
    svg.appendChild(svgEl("path", {
      class: "area",
      d: line + "L" + x(last[0]).toFixed(1) + "," + y(0) + "L" + x(first[0]).toFixed(1) + "," + y(0) + "Z"
    }));
    if (many) {
      hist.agents.forEach(function (a, k) {
        var color = COLORS[k % COLORS.length];
        svg.appendChild(svgEl("path", { class: "agent", stroke: color, d: pathOf(a.points, x, y) }));
        legend.appendChild(legendItem(color, a.hostname + " (" + short(a.agent_id) + ")"));
      });
    }
    svg.appendChild(svgEl("path", { class: "cluster", d: line }));
    svg.appendChild(svgEl("circle", { cx: x(last[0]), cy: y(last[1]), r: 3.5, fill: "#1f6feb" }));
    legend.insertBefore(legendItem("#1f6feb", "cluster (" + pts.length + " points, every " +
      hist.interval_ms / 1000 + " s)"), legend.firstChild);
  }

  // Appends the points after `since`; drops what falls out of the server's ring.
  function mergeHistory(h, full) {
    if (full) { hist = h; return; }
    hist.interval_ms = h.interval_ms;
    hist.capacity = h.capacity;
    hist.cluster = hist.cluster.concat(h.cluster);
    h.agents.forEach(function (a) {
      var mine = hist.agents.find(function (b) { return b.agent_id === a.agent_id; });
      if (mine) { mine.hostname = a.hostname; mine.points = mine.points.concat(a.points); }
      else hist.agents.push(a);
    });
    if (hist.cluster.length > hist.capacity) hist.cluster = hist.cluster.slice(-hist.capacity);
    var oldest = hist.cluster.length ? hist.cluster[0][0] : Infinity;
    hist.agents.forEach(function (a) {
      a.points = a.points.filter(function (p) { return p[0] >= oldest; });
    });
    hist.agents = hist.agents.filter(function (a) { return a.points.length > 0; });
    hist.agents.sort(function (a, b) { return a.agent_id < b.agent_id ? -1 : 1; });
  }

  function getJson(path) {
    return fetch(path, { cache: "no-store" }).then(function (r) {
      if (!r.ok) throw new Error(path + ": HTTP " + r.status);
      return r.json();
    });
  }

  function poll() {
    var full = polls % FULL_EVERY === 0 || !hist.cluster.length;
    var since = full ? "" : "?since=" + hist.cluster[hist.cluster.length - 1][0];
    polls++;
    Promise.all([getJson("api/state"), getJson("api/history" + since)]).then(function (r) {
      down = false;
      lastOk = Date.now();
      renderState(r[0]);
      mergeHistory(r[1], full);
      renderChart();
      updates++;
      document.body.setAttribute("data-updates", String(updates));
      $("updated").textContent = clock(lastOk);
    }).catch(function () {
      down = true;
      banner();
    }).then(function () {
      setTimeout(poll, REFRESH_MS);
    });
  }

  // First contentful paint, for whoever measures the page (the browser test prints it).
  try {
    new PerformanceObserver(function (list) {
      list.getEntries().forEach(function (e) {
        if (e.name === "first-contentful-paint") {
          document.body.setAttribute("data-first-paint-ms", e.startTime.toFixed(1));
        }
      });
    }).observe({ type: "paint", buffered: true });
  } catch (e) {
    // No paint timing in this browser.
  }
  try {
    renderState(JSON.parse($("initial-state").textContent));
  } catch (e) {
    // No embedded state: the first poll fills the page.
  }
  renderChart();
  poll();
})();
