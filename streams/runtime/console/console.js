/* yujing operator console, 3 of 3: state, fetching, selection, the refresh loop
 * (after console-map.js and console-panels.js, which draw what this fetches).
 * Plain JS, no build step, nothing loaded from elsewhere. Data from the server
 * that served the page (a worker, or `yujing console` over several):
 *   /console/layout, /map, /map/{scope}/alerts, /alerts/{id}, /orders?alert=...
 * With #token=XYZ in the page's URL every fetch sends "Authorization: Bearer XYZ".
 * Page query: ?poll=<ms> (default 3000), ?scope=<scope id> (selected at start).
 */
(function () {
  "use strict";

  var Y = window.yujingConsole;
  var U = Y.util, M = Y.map, P = Y.panels, $ = U.$, esc = U.esc;
  var KIND_ZH = { district: "区", town: "镇街", community: "社区", grid_cell: "网格",
                  industry: "行业", place: "场所" };
  var ORDER_CHUNK = 100; // alert ids per /orders request (a URL stays short)

  var query = new URLSearchParams(window.location.search);
  var fragment = new URLSearchParams(window.location.hash.replace(/^#/, ""));
  var token = fragment.get("token");
  var poll = Math.max(100, parseInt(query.get("poll") || "3000", 10) || 3000);

  var state = {
    layout: null,        // the /console/layout answer
    items: {},           // scope → layout item
    children: {},        // scope → child scopes
    names: {},           // scope → name
    elements: {},        // scope → element carrying data-scope/data-level
    levels: {},          // scope → level
    selected: null,      // the selected scope
    view: null,          // the scope the map is zoomed to
    industryView: false,
    alertSig: null,      // the alerts shown (null: none yet, whatever comes is drawn)
    alertId: null,       // the alert whose portrait shows
    busy: false
  };

  /* {status, body} of a GET; 404 is an answer, any other failure an Error (its JSON
   * "error" when the server gave one: `yujing console` names the worker at fault). */
  function get(path) {
    var headers = token ? { Authorization: "Bearer " + token } : {};
    return fetch(path, { headers: headers, cache: "no-store" }).then(function (response) {
      if (response.status === 401) {
        throw new Error("unauthorized: open the page with #token=<web token> 需要令牌");
      }
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok && response.status !== 404) {
          throw new Error(path + ": HTTP " + response.status + (body && body.error ?
                          ": " + body.error : ""));
        }
        return { status: response.status, body: body };
      });
    });
  }

  function status(text, error) {
    var el = $("status");
    el.textContent = text;
    el.dataset.error = error ? "true" : "false";
  }

  function done() {
    document.body.dataset.updated = String(parseInt(document.body.dataset.updated || "0", 10) + 1);
    status("Updated 已更新 " + new Date().toLocaleTimeString(), false);
  }

  function fail(error) { status(String(error && error.message || error), true); }

  /* ---------- selection ---------- */

  function onMapClick(event) {
    var el = event.target.closest("[data-scope]");
    if (!el) { return; }
    var path = M.chain(state, el.dataset.scope);
    var at = path.indexOf(state.view);
    select(at >= 0 && at + 1 < path.length ? path[at + 1] : el.dataset.scope);
  }

  function select(scope) {
    if (!state.names[scope]) { scope = state.layout.district; }
    var old = state.selected && state.elements[state.selected];
    if (old) { old.classList.remove("selected"); }
    state.selected = scope;
    var el = state.elements[scope];
    if (el) { el.classList.add("selected"); }
    if (state.items[scope]) {
      M.zoom(state, state.children[scope] ? scope : state.items[scope].parent);
    }
    state.alertSig = null; // the next answer is drawn, even an empty one
    renderCrumbs();
    refreshAlerts().then(done, fail);
  }

  function renderCrumbs() {
    var scope = state.selected;
    var path = scope.indexOf("industry:") === 0 ? [state.layout.district, scope]
                                                 : M.chain(state, scope);
    $("crumbs").innerHTML = path.map(function (s) {
      var kind = state.items[s] ? state.items[s].kind : "industry";
      var level = state.levels[s] || "none";
      return '<a data-scope-link="' + esc(s) + '" data-level="' + esc(level) + '">' +
             esc(state.names[s] || s) + "</a> <small>" + esc(kind) + " " + esc(KIND_ZH[kind] || "") +
             " · " + U.levelText(level) + "</small>";
    }).join('<span class="sep">›</span>');
    $("up").disabled = path.length < 2;
  }

  function up() {
    var scope = state.selected;
    if (!scope) { return; }
    if (scope.indexOf("industry:") === 0) { select(state.layout.district); return; }
    var parent = state.items[scope] && state.items[scope].parent;
    if (parent) { select(parent); }
  }

  function toggleView() {
    state.industryView = !state.industryView;
    $("map").hidden = state.industryView;
    $("industries").hidden = !state.industryView;
    $("map").dataset.view = state.industryView ? "industries" : "map";
    var button = $("view-toggle");
    button.setAttribute("aria-pressed", state.industryView ? "true" : "false");
    button.innerHTML = state.industryView ? 'Map <span lang="zh">地图</span>'
                                          : 'Industries <span lang="zh">行业</span>';
  }

  /* ---------- fetching ---------- */

  function refreshAlerts() {
    var scope = state.selected;
    return get("/map/" + encodeURIComponent(scope) + "/alerts").then(function (answer) {
      if (scope !== state.selected) { return; } // selected elsewhere meanwhile
      var alerts = answer.status === 200 ? (answer.body.alerts || []).slice() : [];
      alerts.sort(P.newestMostSevere);
      var sig = alerts.map(function (a) { return a.alert_id + "/" + a.version + "/" + a.level; })
                      .join(",");
      if (sig !== state.alertSig) {
        state.alertSig = sig;
        P.renderAlerts(alerts, state.alertId);
        P.renderTrend(alerts);
      }
      return refreshOrders(scope, alerts);
    });
  }

  function refreshOrders(scope, alerts) {
    var ids = alerts.map(function (a) { return a.alert_id; });
    var chunks = [];
    for (var i = 0; i < ids.length; i += ORDER_CHUNK) { chunks.push(ids.slice(i, i + ORDER_CHUNK)); }
    return Promise.all(chunks.map(function (chunk) {
      return get("/orders?alert=" + chunk.map(encodeURIComponent).join(","));
    })).then(function (answers) {
      if (scope !== state.selected) { return; }
      var orders = [];
      answers.forEach(function (a) {
        P.setClock(a.body);
        orders = orders.concat(a.body.orders || []);
      });
      orders.sort(function (a, b) {
        return (Date.parse(a.deadline || "") || Infinity) - (Date.parse(b.deadline || "") || Infinity);
      });
      P.renderOrders(orders);
    });
  }

  function showPortrait(alertId) {
    state.alertId = alertId;
    P.markSelected(alertId);
    return get("/alerts/" + encodeURIComponent(alertId)).then(function (answer) {
      if (alertId === state.alertId) { P.renderPortrait(alertId, answer); }
    }).catch(fail);
  }

  function refreshMap() {
    return get("/map").then(function (answer) {
      M.applyMap(state, answer.body.scopes || {});
    });
  }

  function refresh() {
    if (state.busy) { return Promise.resolve(); }
    state.busy = true;
    return refreshMap().then(function () {
      renderCrumbs();
      return refreshAlerts();
    }).then(done, fail).then(function () {
      state.busy = false;
      window.setTimeout(refresh, poll);
    });
  }

  function start() {
    $("up").addEventListener("click", up);
    $("view-toggle").addEventListener("click", toggleView);
    $("alerts").addEventListener("click", function (event) {
      var li = event.target.closest("[data-alert-id]");
      if (li) { showPortrait(li.dataset.alertId); }
    });
    $("alerts").addEventListener("keydown", function (event) {
      var li = event.target.closest("[data-alert-id]");
      if (li && event.key === "Enter") { showPortrait(li.dataset.alertId); }
    });
    $("crumbs").addEventListener("click", function (event) {
      var a = event.target.closest("[data-scope-link]");
      if (a) { select(a.dataset.scopeLink); }
    });
    window.setInterval(P.tick, 1000);
    boot();
  }

  /* The layout, then the loop; tried again every poll period until the layout comes. */
  function boot() {
    get("/console/layout").then(function (answer) {
      if (answer.status !== 200) { throw new Error("layout: HTTP " + answer.status); }
      M.indexLayout(state, answer.body);
      M.buildMap(state, onMapClick);
      M.buildIndustries(state, select);
      var first = query.get("scope");
      state.selected = first && state.names[first] ? first : answer.body.district;
      var el = state.elements[state.selected];
      if (el) { el.classList.add("selected"); }
      var it = state.items[state.selected];
      M.zoom(state, it && !state.children[it.scope] ? it.parent : (it ? it.scope : state.selected));
      if (state.selected.indexOf("industry:") === 0) { toggleView(); }
      renderCrumbs();
      return true;
    }).then(refresh, function (error) {
      fail(error);
      window.setTimeout(boot, poll);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
