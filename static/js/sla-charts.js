/* Service level charts drawn with the vendored ECharts from the JSON the page embeds; each chart has a
   table beside it with the same numbers, so nothing is lost without scripts. */
(function () {
  "use strict";
  var COLORS = ["#066fd1", "#d63939", "#2fb344", "#f76707", "#ae3ec9", "#0ca678", "#4263eb"];

  function read(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function draw(id, option) {
    var element = document.getElementById(id);
    if (!element) { return; }
    if (!window.echarts) { element.classList.add("d-none"); return; }
    var chart = window.echarts.init(element, null, {renderer: "svg"});
    chart.setOption(Object.assign({animation: false, color: COLORS, tooltip: {trigger: "axis"},
      grid: {left: 12, right: 12, top: 36, bottom: 8, containLabel: true}}, option));
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function line(name, values, axis) {
    return {name: name, type: "line", data: values, connectNulls: false, yAxisIndex: axis || 0, symbolSize: 6};
  }

  var trend = read("sla-trend-data");
  if (trend) {
    draw("trend-compliance", {
      legend: {top: 0},
      xAxis: {type: "category", data: trend.months},
      yAxis: [{type: "value", min: 0, max: 100, name: "%"}, {type: "value", minInterval: 1}],
      series: [line(trend.labels.compliance, trend.compliance), line(trend.labels.response, trend.response),
               line(trend.labels.resolution, trend.resolution),
               {name: trend.labels.breaches, type: "bar", yAxisIndex: 1, data: trend.breaches, barMaxWidth: 18}]
    });
    draw("trend-times", {
      legend: {top: 0},
      xAxis: {type: "category", data: trend.months},
      yAxis: {type: "value", name: trend.labels.minutes},
      series: [line(trend.labels.mtta, trend.mtta), line(trend.labels.mttr, trend.mttr)]
    });
    // Each service's target is drawn as a dashed line in the service's colour, and the axis starts below the
    // lowest target so that the line is always in view.
    var lowest = Math.min.apply(null, trend.availability.map(function (s) {
      return Math.min.apply(null, s.values.filter(function (v) { return v !== null; }).concat([s.target]));
    }).concat([100]));
    draw("trend-availability", {
      legend: {top: 0, type: "scroll"},
      xAxis: {type: "category", data: trend.months},
      yAxis: {type: "value", min: Math.floor((lowest - 0.05) * 10) / 10, max: 100, name: "%"},
      series: trend.availability.map(function (s) {
        return Object.assign(line(s.name, s.values), {markLine: {
          symbol: "none", silent: true, lineStyle: {type: "dashed"},
          label: {position: "insideEndTop", formatter: trend.labels.target + " " + s.target + "%"},
          data: [{yAxis: s.target}]}});
      })
    });
  }

  var overview = read("sla-overview-data");
  if (overview) {
    draw("overview-compliance", {
      tooltip: {trigger: "axis", axisPointer: {type: "shadow"}},
      xAxis: {type: "category", data: overview.departments, axisLabel: {interval: 0}},
      yAxis: {type: "value", min: 0, max: 100, name: "%"},
      series: [{name: overview.label, type: "bar", data: overview.compliance, barMaxWidth: 36}]
    });
  }
})();
