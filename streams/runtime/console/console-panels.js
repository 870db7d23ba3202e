/* yujing operator console, 2 of 3: the panels (after console-map.js).
 * Renders what console.js fetched: the alerts list, an alert's portrait, the orders
 * with their countdowns, the trend chart. Defines window.yujingConsole.panels.
 *
 * Countdowns run on the worker's clock, not the browser's: the worker's clock may be
 * simulated (YUJING_CLOCK_SPEED), so /orders answers "now" (its clock) and "speed";
 * the worker's now is extrapolated as now + (browser time since the answer) x speed.
 */
(function () {
  "use strict";

  var Y = window.yujingConsole;
  var U = Y.util, $ = U.$, esc = U.esc, levelText = U.levelText, pad2 = U.pad2;
  var MODULE_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                        "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939"];
  var modules = {}; // module → colour, kept across renders
  // the worker's clock as last read: its time (ms) at the browser's time ``at`` (ms)
  var clock = { now: NaN, at: 0, speed: 1 };

  function when(alert) { return Date.parse(alert.event_time || alert.window_start || "") || 0; }

  function newestMostSevere(a, b) {
    return (U.LEVELS.indexOf(b.level) - U.LEVELS.indexOf(a.level)) || (when(b) - when(a)) ||
           (a.alert_id < b.alert_id ? -1 : a.alert_id > b.alert_id ? 1 : 0);
  }

  /* The alerts list; ``selected`` is the alert whose portrait shows. */
  function renderAlerts(alerts, selected) {
    $("alerts-count").textContent = "(" + alerts.length + ")";
    if (!alerts.length) {
      $("alerts").innerHTML = '<li class="empty" data-empty="true">No open alerts ' +
                              '<span lang="zh">无未结预警</span></li>';
      return;
    }
    $("alerts").innerHTML = alerts.map(function (a) {
      var sel = a.alert_id === selected ? " selected" : "";
      var t = a.event_time || a.window_start || "";
      return '<li class="alert' + sel + '" tabindex="0" data-alert-id="' + esc(a.alert_id) +
             '" data-level="' + esc(a.level) + '" data-kind="' + esc(a.kind) + '">' +
             '<span class="level">' + levelText(a.level) + '</span><span class="kind">' +
             esc(a.kind) + " · " + esc(a.module || a.rule_id) + '</span><time>' + esc(t) +
             '</time><span class="summary">' + esc(a.summary) + "</span>" +
             (a.inhibited_by ? '<span class="inhibited">covered by 已并入 ' +
              esc(a.inhibited_by) + "</span>" : "") + "</li>";
    }).join("");
  }

  function markSelected(alertId) {
    $("alerts").querySelectorAll("li.selected").forEach(function (li) {
      li.classList.remove("selected");
    });
    var li = $("alerts").querySelector('[data-alert-id="' + CSS.escape(alertId) + '"]');
    if (li) { li.classList.add("selected"); }
  }

  function renderValue(value, depth) {
    if (value === null || value === undefined) { return "—"; }
    if (Array.isArray(value)) {
      if (!value.length) { return "[]"; }
      var shown = value.slice(0, 50).map(function (v) {
        return "<li>" + renderValue(v, depth + 1) + "</li>";
      }).join("");
      var more = value.length > 50 ? "<li>… " + (value.length - 50) + " more 更多</li>" : "";
      return "<ul>" + shown + more + "</ul>";
    }
    if (typeof value === "object") {
      if (depth > 5) { return esc(JSON.stringify(value)); }
      var keys = Object.keys(value);
      if (!keys.length) { return "{}"; }
      return "<dl>" + keys.map(function (k) {
        return "<dt>" + esc(k.replace(/_/g, " ")) + "</dt><dd>" + renderValue(value[k], depth + 1) +
               "</dd>";
      }).join("") + "</dl>";
    }
    if (typeof value === "number") { return esc(Math.round(value * 1e4) / 1e4); }
    return esc(value);
  }

  /* The /alerts/{id} answer (status, body) into #portrait. */
  function renderPortrait(alertId, answer) {
    var body = answer.body, box = $("portrait");
    box.dataset.alertId = alertId;
    if (answer.status !== 200) {
      box.innerHTML = '<p class="empty">' + esc(body.error || "not held here") + "</p>";
      return;
    }
    box.innerHTML = '<p class="summary">' + esc(body.summary) + "</p>" +
                    '<p><span class="level">' + levelText(body.level) + "</span></p>" +
                    renderValue(body, 0);
  }

  /* The worker's clock from an /orders answer (its "now" and "speed"). */
  function setClock(answer) {
    var now = Date.parse(answer.now || "");
    if (isNaN(now)) { return; }
    var speed = Number(answer.speed);
    clock = { now: now, at: Date.now(), speed: isFinite(speed) && speed >= 0 ? speed : 1 };
  }

  function workerNow() {
    if (isNaN(clock.now)) { return Date.now(); } // no answer yet: the browser's clock
    return clock.now + (Date.now() - clock.at) * clock.speed;
  }

  function countdown(deadline) {
    var t = Date.parse(deadline || "");
    if (isNaN(t)) { return "—"; }
    var left = Math.round((t - workerNow()) / 1000);
    var s = Math.abs(left);
    return (left < 0 ? "-" : "") + pad2(Math.floor(s / 3600)) + ":" +
           pad2(Math.floor((s % 3600) / 60)) + ":" + pad2(s % 60);
  }

  function tick() {
    $("orders").querySelectorAll(".order").forEach(function (el) {
      var text = countdown(el.dataset.deadline);
      el.dataset.overdue = text.charAt(0) === "-" ? "true" : "false";
      el.querySelector(".countdown").textContent = text;
    });
  }

  function renderOrders(orders) {
    var box = $("orders");
    if (!orders.length) {
      box.innerHTML = '<p class="empty">No orders held here for these alerts ' +
                      '<span lang="zh">本节点无相关工单</span></p>';
      return;
    }
    box.innerHTML = orders.map(function (o) {
      var stages = (o.stages || []).map(function (s) {
        return '<span class="stage" data-stage="' + esc(s.stage) + '" data-breached="' +
               (s.breached ? "true" : "false") + '" data-due="' + (s.stage === o.stage) + '">' +
               esc(s.stage) + (s.met_at ? " ✓" : "") +
               (s.breached ? " · breached 超时" : "") + "</span>";
      }).join("");
      return '<div class="order" data-order-id="' + esc(o.order_id) + '" data-alert-id="' +
             esc(o.alert_id) + '" data-deadline="' + esc(o.deadline || "") + '">' +
             '<span class="countdown">' + countdown(o.deadline) + "</span>" +
             '<span class="next">next 下一步: ' + esc(o.stage || "— all met 已完成") + "</span>" +
             '<span class="stages">' + stages + "</span>" +
             '<span class="state">' + esc(o.state) + " · " + esc(o.sla_class) + "</span>" +
             '<span class="receiver">to 接收: ' + esc(o.receiver) + "</span></div>";
    }).join("");
    tick();
  }

  function colour(module) {
    if (!modules[module]) {
      modules[module] = MODULE_COLOURS[Object.keys(modules).length % MODULE_COLOURS.length];
    }
    return modules[module];
  }

  /* An SVG of the alerts per hour by module, the 24 hours up to the newest alert. */
  function renderTrend(alerts) {
    var HOUR = 3600 * 1000, HOURS = 24;
    var times = alerts.map(when).filter(function (t) { return t > 0; });
    if (!times.length) {
      $("trend").innerHTML = '<p class="empty">No timed alerts <span lang="zh">暂无</span></p>';
      return;
    }
    var end = Math.floor(Math.max.apply(null, times) / HOUR) + 1;
    var start = end - HOURS;
    var bins = [], seen = {};
    for (var i = 0; i < HOURS; i++) { bins.push({}); }
    alerts.forEach(function (a) {
      var h = Math.floor(when(a) / HOUR);
      if (!when(a) || h < start || h >= end) { return; }
      var m = a.module || a.rule_id || "other";
      seen[m] = true;
      bins[h - start][m] = (bins[h - start][m] || 0) + 1;
    });
    var names = Object.keys(seen).sort();
    var top = Math.max(1, Math.max.apply(null, bins.map(function (b) {
      return names.reduce(function (s, m) { return s + (b[m] || 0); }, 0);
    })));
    var W = 480, H = 140, left = 28, bottom = 18, barW = (W - left) / HOURS;
    var out = [];
    bins.forEach(function (b, i) {
      var y = H - bottom;
      names.forEach(function (m) {
        if (!b[m]) { return; }
        var h = (H - bottom - 6) * b[m] / top;
        y -= h;
        out.push('<rect x="' + (left + i * barW + 1).toFixed(1) + '" y="' + y.toFixed(1) +
                 '" width="' + (barW - 2).toFixed(1) + '" height="' + h.toFixed(1) +
                 '" fill="' + colour(m) + '" data-module="' + esc(m) + '" data-hour="' +
                 new Date((start + i) * HOUR).toISOString() + '" data-count="' + b[m] +
                 '"><title>' + esc(m) + ": " + b[m] + "</title></rect>");
      });
      if (i % 6 === 0) {
        out.push('<text x="' + (left + i * barW).toFixed(1) + '" y="' + (H - 4) + '">' +
                 pad2(new Date((start + i) * HOUR).getUTCHours()) + ":00Z</text>");
      }
    });
    out.push('<text x="0" y="10">' + top + "</text>");
    var legend = names.map(function (m, k) {
      return '<g class="legend"><rect x="' + (k % 4) * 120 + '" y="' + (H + 6 + Math.floor(k / 4) * 16) +
             '" width="10" height="10" fill="' + colour(m) + '"/><text x="' + ((k % 4) * 120 + 14) +
             '" y="' + (H + 15 + Math.floor(k / 4) * 16) + '">' + esc(m) + "</text></g>";
    }).join("");
    var total = H + 10 + Math.ceil(names.length / 4) * 16;
    $("trend").innerHTML = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ' + W + " " + total +
                           '" role="img" aria-label="Alerts per hour by module 每小时各模块预警数">' +
                           '<line x1="' + left + '" x2="' + W + '" y1="' + (H - bottom) + '" y2="' +
                           (H - bottom) + '" stroke="#999"/>' + out.join("") + legend + "</svg>";
  }

  Y.panels = {
    newestMostSevere: newestMostSevere,
    renderAlerts: renderAlerts,
    markSelected: markSelected,
    renderPortrait: renderPortrait,
    setClock: setClock,
    renderOrders: renderOrders,
    tick: tick,
    renderTrend: renderTrend
  };
})();
