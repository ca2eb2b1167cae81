// Customer-value dashboards (客户价值), drawn with the vendored ECharts.
// No inline scripts (CSP script-src 'self'): the chart specs come from a json_script tag; a click on
// a bar, slice or point opens the customer list filtered accordingly (the drill-down links).
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

  var COLORS = ["#0a66c2", "#1a7f37", "#bf8700", "#b3261e", "#8250df", "#57606a"];

  function option(spec) {
    var base = { color: COLORS, tooltip: { trigger: spec.type === "pie" || spec.type === "funnel" ? "item" : "axis" },
      grid: { left: 48, right: 16, top: 32, bottom: 48, containLabel: true } };
    if (spec.type === "pie" || spec.type === "funnel") {
      var data = spec.categories.map(function (c, i) { return { name: c, value: spec.series[0].data[i] }; });
      base.series = [{ type: spec.type, data: data, sort: spec.type === "funnel" ? "none" : undefined,
        radius: spec.type === "pie" ? ["35%", "70%"] : undefined, label: { show: true } }];
      return base;
    }
    if (spec.type === "heatmap") {
      var max = 1;
      spec.data.forEach(function (d) { if (d[2] > max) { max = d[2]; } });
      base.tooltip = { position: "top" };
      base.xAxis = { type: "category", data: spec.x, name: spec.xname };
      base.yAxis = { type: "category", data: spec.y, name: spec.yname };
      base.visualMap = { min: 0, max: max, calculable: true, orient: "horizontal", left: "center", bottom: 0 };
      base.series = [{ type: "heatmap", data: spec.data, label: { show: true } }];
      return base;
    }
    base.legend = { top: 0 };
    base.xAxis = { type: "category", data: spec.categories, axisLabel: { interval: spec.type === "line" && spec.categories.length > 20 ? 9 : 0, rotate: spec.categories.length > 6 ? 30 : 0 } };
    base.yAxis = { type: "value", max: spec.percent ? 100 : undefined };
    base.series = spec.series.map(function (s) {
      return { name: s.name, type: s.bar || spec.type === "bar" ? "bar" : "line", data: s.data,
        stack: spec.stack ? "total" : undefined, smooth: spec.type === "line" && !s.bar, showSymbol: spec.categories.length < 30 };
    });
    return base;
  }

  function draw(echarts, spec) {
    var el = document.getElementById(spec.id);
    if (!el) { return; }
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option(spec));
    if (spec.links && spec.links.length) {
      chart.on("click", function (p) {
        var url = spec.links[p.dataIndex];
        if (url) { window.location.href = url; }
      });
    }
    window.addEventListener("resize", function () { chart.resize(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var data = document.getElementById("value-charts");
    var root = document.getElementById("value-charts-root");
    if (!data || !root) { return; }
    var specs = JSON.parse(data.textContent);
    if (!specs.length) { return; }
    loadEcharts(root.getAttribute("data-echarts")).then(function (echarts) {
      specs.forEach(function (spec) { draw(echarts, spec); });
    });
  });
})();
