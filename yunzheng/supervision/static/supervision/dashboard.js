/* Draws the supervision dashboard's charts with the vendored Apache ECharts.
 * Data: the json_script element "supervision-charts" (the same numbers as the tables below the
 * charts). No network access, no map tiles: the map draws the vendored province and city outlines
 * (vendor/china-provinces.js, vendor/china-cities.js); without them it falls back to a grid. */
(function () {
  "use strict";
  var source = document.getElementById("supervision-charts");
  if (!source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  var L = data.labels;
  var charts = [];

  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el) { return; }
    var c = window.echarts.init(el, null, { renderer: "canvas" });
    c.setOption(option);
    charts.push(c);
  }

  var grid = { left: 48, right: 48, top: 36, bottom: 36, containLabel: true };
  var tooltip = { trigger: "axis" };

  chart("chart-orders", {
    tooltip: tooltip, grid: grid, legend: { top: 0 },
    xAxis: { type: "category", data: data.days },
    yAxis: [{ type: "value", name: L.orders }, { type: "value", name: "%", min: 0, max: 100 }],
    series: [
      { name: L.orders, type: "bar", data: data.orders, itemStyle: { color: "#1552a8" } },
      { name: L.rate, type: "line", yAxisIndex: 1, data: data.rate, connectNulls: false, itemStyle: { color: "#1a7f37" } }
    ]
  });

  chart("chart-trend", {
    tooltip: tooltip, grid: grid, legend: { top: 0 },
    xAxis: { type: "category", data: data.days },
    yAxis: { type: "value", name: "%", min: function (v) { return Math.max(0, Math.floor(v.min - 5)); }, max: 100 },
    series: [
      { name: L.rate, type: "line", data: data.rate },
      { name: L.driver_rate, type: "line", data: data.driver_rate },
      { name: L.vehicle_rate, type: "line", data: data.vehicle_rate }
    ]
  });

  function ranking(id, block) {
    chart(id, {
      tooltip: tooltip, grid: grid, legend: { top: 0 },
      yAxis: { type: "category", data: block.labels.slice().reverse(), axisLabel: { width: 90, overflow: "truncate" } },
      xAxis: [{ type: "value", name: L.orders }, { type: "value", name: "%", min: 0, max: 100, position: "top" }],
      series: [
        { name: L.orders, type: "bar", data: block.orders.slice().reverse(), itemStyle: { color: "#1552a8" } },
        { name: L.rate, type: "scatter", xAxisIndex: 1, data: block.rate.slice().reverse(), itemStyle: { color: "#c62828" } }
      ]
    });
  }
  ranking("chart-platforms", data.platforms);
  ranking("chart-cities", data.cities);

  var cancelSeries = Object.keys(data.cancellations).map(function (name) {
    return { name: name, type: "bar", stack: "cancel", data: data.cancellations[name] };
  });
  cancelSeries.push({ name: L.complaints, type: "line", data: data.complaints, itemStyle: { color: "#b35900" } });
  chart("chart-cancellations", {
    tooltip: tooltip, grid: grid, legend: { top: 0, type: "scroll" },
    xAxis: { type: "category", data: data.days },
    yAxis: { type: "value" },
    series: cancelSeries
  });

  var m = data.map;
  var maxDensity = m.density.reduce(function (a, p) { return Math.max(a, p[2]); }, 1);
  var densityColours = { show: false, seriesIndex: 0, min: 0, max: maxDensity, dimension: 2,
                         inRange: { color: ["#dbe8fb", "#6f9fe0", "#1552a8"], symbolSize: [6, 18] } };
  var b = m.bounds || { lon_min: 73.5, lon_max: 135.1, lat_min: 18.1, lat_max: 53.6 };
  if (window.echarts.getMap("china") && window.echarts.getMap("china-cities")) {
    // Two outline layers with the same bounding box and layout, so they line up exactly:
    // provinces (filled) under cities (thin borders). The points sit on the first.
    var box = [[b.lon_min, b.lat_max], [b.lon_max, b.lat_min]];
    var layer = function (map, style, z) {
      return { map: map, boundingCoords: box, roam: false, silent: true, z: z, top: 36, bottom: 12,
               label: { show: false }, itemStyle: style, emphasis: { disabled: true } };
    };
    chart("chart-map", {
      tooltip: { trigger: "item" }, legend: { top: 0 },
      geo: [
        layer("china", { areaColor: "#f3f6fa", borderColor: "#7f99bf", borderWidth: 1.2 }, 1),
        layer("china-cities", { areaColor: "rgba(0,0,0,0)", borderColor: "#b8c7dc", borderWidth: 0.6 }, 2)
      ],
      visualMap: densityColours,
      series: [
        { name: L.density, type: "scatter", coordinateSystem: "geo", geoIndex: 0, zlevel: 1,
          data: m.density, symbol: "rect", itemStyle: { opacity: 0.6 } },
        { name: L.vehicles, type: "scatter", coordinateSystem: "geo", geoIndex: 0, zlevel: 1,
          data: m.vehicles, symbolSize: 6, itemStyle: { color: "#c62828" } }
      ]
    });
  } else {
    chart("chart-map", {
      tooltip: { trigger: "item" }, grid: grid, legend: { top: 0 },
      xAxis: { type: "value", name: L.longitude, scale: true, min: b.lon_min, max: b.lon_max },
      yAxis: { type: "value", name: L.latitude, scale: true, min: b.lat_min, max: b.lat_max },
      visualMap: densityColours,
      series: [
        { name: L.density, type: "scatter", data: m.density, symbol: "rect", itemStyle: { opacity: 0.6 } },
        { name: L.vehicles, type: "scatter", data: m.vehicles, symbolSize: 6, itemStyle: { color: "#c62828" } }
      ]
    });
  }
  document.documentElement.setAttribute("data-map-outlines", window.echarts.getMap("china") ? "1" : "0");

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  document.documentElement.setAttribute("data-charts-ready", String(charts.length));
}());
