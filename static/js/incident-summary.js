/* The incident summary's chart of incidents by category (its data in #category-chart-data). */
(function () {
  var element = document.getElementById("category-chart");
  var data = JSON.parse(document.getElementById("category-chart-data").textContent);
  if (!element || !window.echarts || !data.values.length) { if (element) element.classList.add("d-none"); return; }
  var chart = echarts.init(element, null, {renderer: "svg"});
  chart.setOption({
    animation: false,
    grid: {left: 12, right: 12, top: 20, bottom: 8, containLabel: true},
    tooltip: {trigger: "axis", axisPointer: {type: "shadow"}},
    xAxis: {type: "category", data: data.labels, axisLabel: {interval: 0}, axisTick: {show: false}},
    yAxis: {type: "value", minInterval: 1},
    series: [{type: "bar", data: data.values, barMaxWidth: 36, itemStyle: {color: "#066fd1", borderRadius: [3, 3, 0, 0]}}]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
