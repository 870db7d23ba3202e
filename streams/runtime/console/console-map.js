/* yujing operator console, 1 of 3: shared helpers and the map (loaded first).
 * Draws the district as nested rectangles from /console/layout, the industries as a
 * list, colours both from /map levels, zooms and labels the map. Defines
 * window.yujingConsole.util and window.yujingConsole.map; console-panels.js and
 * console.js use them. No fetching and no state of its own: the state object
 * (see console.js) is passed in.
 */
(function () {
  "use strict";

  var Y = window.yujingConsole = window.yujingConsole || {};
  var LEVELS = ["none", "low", "medium", "high", "critical"];
  var LETTER = { none: "", low: "L", medium: "M", high: "H", critical: "C" };
  var ZH = { none: "无", low: "低", medium: "中", high: "高", critical: "严重" };
  var SIZE = 1000; // the layout's unit square, in SVG user units
  var LABEL_MIN = 0.6; // a label shrinks to this share of its font size, else is left out

  function $(id) { return document.getElementById(id); }

  function esc(value) {
    return String(value == null ? "" : value).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function levelText(level) {
    return esc(level || "none") + " " + esc(ZH[level] || "");
  }

  function pad2(v) { return v < 10 ? "0" + v : String(v); }

  Y.util = { LEVELS: LEVELS, ZH: ZH, $: $, esc: esc, levelText: levelText, pad2: pad2 };

  function indexLayout(state, layout) {
    state.layout = layout;
    layout.items.forEach(function (it) {
      state.items[it.scope] = it;
      state.names[it.scope] = it.name;
      if (it.parent) {
        (state.children[it.parent] = state.children[it.parent] || []).push(it.scope);
      }
    });
    layout.industries.forEach(function (ind) { state.names[ind.scope] = ind.name; });
  }

  function n(v) { return (Math.round(v * SIZE * 100) / 100).toString(); }

  var DEFS = '<defs>' +
    '<pattern id="hatch-high" width="8" height="8" patternUnits="userSpaceOnUse" ' +
    'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="8" stroke="#000" ' +
    'stroke-opacity=".35" stroke-width="2"/></pattern>' +
    '<pattern id="hatch-critical" width="8" height="8" patternUnits="userSpaceOnUse">' +
    '<path d="M0,0 L8,8 M8,0 L0,8" stroke="#000" stroke-opacity=".45" stroke-width="1.6"/>' +
    "</pattern></defs>";

  /* The SVG map into #map; onClick(event) gets the clicks on it. */
  function buildMap(state, onClick) {
    var cells = [], outlines = [];
    state.layout.items.forEach(function (it) {
      var box = 'x="' + n(it.x) + '" y="' + n(it.y) + '" width="' + n(it.w) +
                '" height="' + n(it.h) + '"';
      var attrs = ' data-scope="' + esc(it.scope) + '" data-kind="' + esc(it.kind) +
                  '" data-level="none"';
      var title = "<title>" + esc(it.name) + " (" + esc(it.scope) + ")</title>";
      if (it.kind === "grid_cell") {
        var size = Math.min(it.w, it.h) * SIZE * 0.5;
        cells.push('<g class="scope cell"' + attrs + ">" + title + '<rect class="fill" ' + box +
                   '/><rect class="hatch" ' + box + '/><text x="' + n(it.x + it.w / 2) +
                   '" y="' + n(it.y + it.h / 2) + '" font-size="' + size.toFixed(1) +
                   '"></text></g>');
      } else {
        outlines.push('<g class="scope outline ' + esc(it.kind) + '"' + attrs + "><rect " + box +
                      "/></g>");
      }
    });
    // towns last: their boundaries drawn over the communities'
    outlines.reverse();
    $("map").innerHTML = '<svg id="map-svg" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ' +
      SIZE + " " + SIZE + '" preserveAspectRatio="xMidYMid meet" role="img" ' +
      'aria-label="Risk map 风险地图">' + DEFS + '<g class="cells">' + cells.join("") +
      '</g><g class="outlines">' + outlines.join("") + '</g><g class="labels"></g></svg>';
    $("map").querySelectorAll("[data-scope]").forEach(function (el) {
      state.elements[el.dataset.scope] = el;
    });
    $("map-svg").addEventListener("click", onClick);
  }

  /* The industries as a list into #industries; onSelect(scope) on click or Enter. */
  function buildIndustries(state, onSelect) {
    var list = $("industries");
    list.innerHTML = state.layout.industries.map(function (ind) {
      return '<li class="scope industry" tabindex="0" data-scope="' + esc(ind.scope) +
             '" data-kind="industry" data-level="none"><span class="swatch"></span>' +
             '<span class="name">' + esc(ind.name) + '</span> <span class="level-text">' +
             levelText("none") + "</span></li>";
    }).join("");
    list.querySelectorAll("[data-scope]").forEach(function (el) {
      state.elements[el.dataset.scope] = el;
    });
    list.addEventListener("click", function (event) {
      var li = event.target.closest("[data-scope]");
      if (li) { onSelect(li.dataset.scope); }
    });
    list.addEventListener("keydown", function (event) {
      var li = event.target.closest("[data-scope]");
      if (li && (event.key === "Enter" || event.key === " ")) { onSelect(li.dataset.scope); }
    });
  }

  function setLevel(state, scope, level) {
    var el = state.elements[scope];
    state.levels[scope] = level;
    if (!el || el.dataset.level === level) { return; }
    el.dataset.level = level;
    if (el.classList.contains("cell")) {
      el.querySelector("text").textContent = LETTER[level] || "";
    } else if (el.classList.contains("industry")) {
      el.querySelector(".swatch").textContent = LETTER[level] || "";
      el.querySelector(".level-text").textContent = (level || "none") + " " + (ZH[level] || "");
    }
  }

  /* Every drawn scope at its level in ``scopes`` (the /map answer's), else none. */
  function applyMap(state, scopes) {
    Object.keys(state.elements).forEach(function (scope) {
      var entry = scopes[scope];
      setLevel(state, scope, entry && LEVELS.indexOf(entry.level) >= 0 ? entry.level : "none");
    });
  }

  /* The scope and its ancestors, the district first. */
  function chain(state, scope) {
    var out = [];
    while (scope) {
      out.unshift(scope);
      scope = state.items[scope] ? state.items[scope].parent : null;
    }
    return out;
  }

  /* A label's width in font sizes, a first guess (CJK about 1, others about 0.7). */
  function ems(text) {
    var w = 0;
    for (var i = 0; i < text.length; i++) { w += text.charCodeAt(i) > 0x2e80 ? 1 : 0.7; }
    return w;
  }

  /* A child's name without the leading words its parent's name has too
   * ("Linping Community 1" in "Linping Street": "Community 1"); its title keeps it all. */
  function shortName(c, parent) {
    var words = c.name.split(" "), theirs = (parent ? parent.name : "").split(" "), k = 0;
    while (k < words.length - 1 && words[k] === theirs[k]) { k++; }
    return words.slice(k).join(" ");
  }

  /* A child's label, shrunk to fit its rectangle by a guess (its short name when its
   * name does not fit); none when too small. */
  function label(c, parent, font) {
    var name = c.name, room = c.w * SIZE * 0.92;
    var fit = Math.min(font, room / Math.max(1, ems(name)));
    if (fit < font * LABEL_MIN) {
      name = shortName(c, parent);
      fit = Math.min(font, room / Math.max(1, ems(name)));
    }
    if (fit < font * LABEL_MIN || c.h * SIZE < fit * 1.6) { return ""; }
    var inset = fit * 0.25; // hanging text reaches a little above its y
    return '<text data-label-for="' + esc(c.scope) + '" x="' + (c.x * SIZE + inset).toFixed(2) +
           '" y="' + (c.y * SIZE + inset).toFixed(2) + '" font-size="' + fit.toFixed(1) + '">' +
           esc(name) + "</text>";
  }

  /* Labels measured as drawn: shrunk to their rectangle's width, or left out. */
  function fitLabels(state, group, font) {
    group.querySelectorAll("text").forEach(function (t) {
      var c = state.items[t.dataset.labelFor], box = t.getBBox();
      if (!box.width) { return; } // not rendered (the map hidden): the guess stands
      var room = c.w * SIZE * 0.96 - (box.x - c.x * SIZE), size = parseFloat(t.getAttribute("font-size"));
      if (box.width <= room) { return; }
      size = size * room / box.width;
      if (size < font * LABEL_MIN) { t.remove(); } else { t.setAttribute("font-size", size.toFixed(1)); }
    });
  }

  /* The map zoomed to ``scope`` (the district when unknown), its children labelled. */
  function zoom(state, scope) {
    var it = state.items[scope] || state.items[state.layout.district];
    state.view = it.scope;
    var pad = Math.max(it.w, it.h) * SIZE * 0.01;
    var box = [it.x * SIZE - pad, it.y * SIZE - pad, it.w * SIZE + 2 * pad, it.h * SIZE + 2 * pad];
    $("map-svg").setAttribute("viewBox", box.map(function (v) { return v.toFixed(2); }).join(" "));
    var font = Math.max(it.w, it.h) * SIZE * 0.028;
    var labels = (state.children[it.scope] || []).map(function (child) {
      return label(state.items[child], it, font);
    }).join("");
    var group = document.querySelector("#map-svg .labels");
    group.innerHTML = labels;
    fitLabels(state, group, font);
  }

  Y.map = {
    indexLayout: indexLayout,
    buildMap: buildMap,
    buildIndustries: buildIndustries,
    applyMap: applyMap,
    chain: chain,
    zoom: zoom
  };
})();
