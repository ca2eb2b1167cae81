// Relationship map (关系图谱) and referral graph, drawn with the vendored ECharts.
// No inline scripts (CSP script-src 'self'): the data comes from <script type="application/json">
// tags rendered by Django's json_script; ECharts itself is loaded only when a graph is on the page.
(function () {
  "use strict";

  var loading = null;
  function loadEcharts(src) {
    if (window.echarts) { return Promise.resolve(window.echarts); }
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        var s = document.createElement("script");
        s.src = src;
        s.onload = function () { resolve(window.echarts); };
        s.onerror = reject;
        document.head.appendChild(s);
      });
    }
    return loading;
  }

  function readJSON(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function label(map, key) { return (map && map[key]) || key; }

  var STANCE_COLORS = { supporter: "#1a7f37", neutral: "#8c959f", opponent: "#b3261e", unknown: "#0a66c2" };
  var LINK_COLORS = {
    reports_to: "#57606a", influences: "#bf8700", friend: "#1a7f37",
    former_colleague: "#8250df", family: "#cf222e", knows: "#0a66c2"
  };

  function relmapOption(data, labels) {
    var categories = [
      { name: labels.stances.supporter, itemStyle: { color: STANCE_COLORS.supporter } },
      { name: labels.stances.neutral, itemStyle: { color: STANCE_COLORS.neutral } },
      { name: labels.stances.opponent, itemStyle: { color: STANCE_COLORS.opponent } },
      { name: labels.stances.unknown, itemStyle: { color: STANCE_COLORS.unknown } },
      { name: labels.kinds.external, itemStyle: { color: "#d0d7de" } },
      { name: labels.kinds.user, itemStyle: { color: "#fff1cc", borderColor: "#bf8700" } }
    ];
    var stanceIndex = { supporter: 0, neutral: 1, opponent: 2, unknown: 3 };
    var nodes = data.nodes.map(function (n) {
      var category = n.kind === "user" ? 5 : n.kind === "external" ? 4 : stanceIndex[n.stance] || 3;
      var decides = n.roles.indexOf("decision_maker") >= 0;
      var roleText = n.roles.map(function (r) { return label(labels.roles, r); }).join("、");
      return {
        id: n.id,
        name: n.name,
        category: category,
        symbol: n.kind === "user" ? "roundRect" : "circle",
        symbolSize: n.kind === "user" ? 26 : decides ? 46 : n.is_key ? 36 : 28,
        url: n.kind === "user" ? null : "/relations/contacts/" + n.ref_id + "/",
        label: { show: true, formatter: n.name + (roleText ? "\n" + roleText : "") },
        tip: [
          "<b>" + n.name + "</b> " + (n.title || ""),
          n.kind === "external" ? n.customer_name : "",
          roleText,
          n.kind === "user" ? label(labels.kinds, "user")
            : label(labels.stances, n.stance) + " · " + label(labels.warmth, String(n.warmth)),
          n.kind === "contact" ? labels.ui.last_reached + ": " +
            (n.last_reached_at ? n.last_reached_at.slice(0, 10) : labels.ui.never) : ""
        ].filter(Boolean).join("<br>")
      };
    });
    var edges = data.edges.map(function (e) {
      return {
        source: e.source,
        target: e.target,
        value: e.strength,
        lineStyle: {
          width: 1 + e.strength,
          color: LINK_COLORS[e.kind] || "#999",
          type: e.kind === "knows" ? "dashed" : "solid",
          curveness: e.kind === "knows" ? 0.2 : 0
        },
        symbol: e.kind === "reports_to" || e.kind === "influences" ? ["none", "arrow"] : ["none", "none"],
        label: { show: e.kind !== "knows", formatter: label(labels.links, e.kind), fontSize: 10 },
        tip: label(labels.links, e.kind) + (e.count ? " · " + e.count + " " + labels.ui.interactions : "")
      };
    });
    return graphOption(nodes, edges, categories);
  }

  function referralOption(data, labels) {
    var types = ["upstream", "partner", "channel", "end"];
    var colors = ["#cf222e", "#1a7f37", "#bf8700", "#0a66c2", "#8250df", "#8c959f"];
    var categories = [
      { name: labels.kinds.customer },
      { name: labels.kinds.referrer_user },
      { name: labels.kinds.referrer_external }
    ];
    var nodes = data.nodes.map(function (n) {
      var revenue = parseFloat(n.revenue) || 0;
      var category = n.kind === "customer" ? 0 : n.kind === "user" ? 1 : 2;
      var color = n.kind === "customer" ? colors[Math.max(0, types.indexOf(n.relationship_type))] : colors[4 + (category - 1)];
      return {
        id: n.id,
        name: n.name,
        category: category,
        symbolSize: 10 + Math.min(40, Math.sqrt(revenue) / 30),
        itemStyle: { color: color, opacity: n.status === "lost" || n.status === "dormant" ? 0.45 : 1 },
        url: n.customer_id ? "/customers/" + n.customer_id + "/" : null,
        label: { show: data.nodes.length <= 80 },
        tip: "<b>" + n.name + "</b>" + (n.status ? " · " + label(labels.statuses, n.status) : "") +
          (revenue ? "<br>" + labels.ui.revenue + ": ¥" + revenue.toLocaleString() : "")
      };
    });
    var edges = data.edges.map(function (e) {
      return {
        source: e.source, target: e.target, symbol: ["none", "arrow"],
        tip: e.referred_on + (e.via ? " · " + e.via : "")
      };
    });
    return graphOption(nodes, edges, categories);
  }

  function graphOption(nodes, edges, categories) {
    return {
      tooltip: {
        confine: true,
        formatter: function (p) { return (p.data && p.data.tip) || ""; }
      },
      legend: [{ data: categories.map(function (c) { return c.name; }), bottom: 0, type: "scroll" }],
      animationDuration: 600,
      series: [{
        type: "graph",
        layout: "force",
        roam: true,
        draggable: true,
        data: nodes,
        links: edges,
        categories: categories,
        edgeSymbolSize: 8,
        label: { position: "right", fontSize: 12 },
        emphasis: { focus: "adjacency" },
        force: { repulsion: nodes.length > 100 ? 60 : 260, edgeLength: [60, 140], gravity: 0.08 }
      }]
    };
  }

  function init(root) {
    (root || document).querySelectorAll("[data-graph]:not([data-graph-ready])").forEach(function (el) {
      el.setAttribute("data-graph-ready", "1");
      var data = readJSON(el.getAttribute("data-graph-data"));
      var labels = readJSON(el.getAttribute("data-graph-labels"));
      if (!data || !labels) { return; }
      loadEcharts(el.getAttribute("data-echarts")).then(function (echarts) {
        var chart = echarts.init(el, null, { renderer: "canvas" });
        var kind = el.getAttribute("data-graph");
        chart.setOption(kind === "referrals" ? referralOption(data, labels) : relmapOption(data, labels));
        chart.on("click", function (p) {
          if (p.dataType === "node" && p.data && p.data.url) { window.location.href = p.data.url; }
        });
        window.addEventListener("resize", function () { chart.resize(); });
        el.setAttribute("data-graph-drawn", "1");
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (ev) { init(ev.detail.elt); });
})();
