/* Draws an alarm's track with the vendored ECharts: a line on longitude/latitude, no map tiles. */
(function () {
  "use strict";
  var source = document.getElementById("alarm-track");
  var el = document.getElementById("alarm-map");
  if (!source || !el || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  var pts = data.points || [];
  var chart = window.echarts.init(el, null, { renderer: "canvas" });
  chart.setOption({
    grid: { left: 56, right: 24, top: 24, bottom: 36 },
    tooltip: { trigger: "item" },
    xAxis: { type: "value", scale: true, name: "lon" },
    yAxis: { type: "value", scale: true, name: "lat" },
    series: [
      { type: "line", data: pts, showSymbol: false, lineStyle: { color: "#1552a8" } },
      { type: "scatter", data: pts.slice(-1), symbolSize: 14, itemStyle: { color: "#b42318" }, name: data.label }
    ]
  });
  document.documentElement.setAttribute("data-charts-ready", "1");
}());
