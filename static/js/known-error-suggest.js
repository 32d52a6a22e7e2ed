// The incident report form's known-error panel: as the title, description, service or configuration item change,
// ask the server for the published known errors that match and list them (each with its workaround).
(function () {
  "use strict";
  var panel = document.getElementById("known-error-panel");
  var form = panel && panel.closest("form");
  if (!panel || !form) { return; }
  var results = document.getElementById("known-error-results");
  var workaroundLabel = document.getElementById("known-error-label-workaround").innerHTML.trim();
  var fields = ["title", "description", "service", "configuration_item"];
  var timer = null;
  var asked = "";

  function value(name) {
    var field = form.elements.namedItem(name);
    return field && field.value ? String(field.value) : "";
  }

  function show(rows) {
    results.replaceChildren();
    rows.forEach(function (row) {
      var item = document.createElement("div");
      item.className = "list-group-item suggested-known-error";
      var head = document.createElement("div");
      head.className = "d-flex align-items-center gap-2";
      var link = document.createElement("a");
      link.href = row.url;
      link.target = "_blank";
      link.rel = "noopener";
      link.className = "text-nowrap";
      link.textContent = row.number;
      var title = document.createElement("span");
      title.className = "text-truncate";
      title.textContent = row.title;
      head.append(link, title);
      item.append(head);
      if (row.workaround) {
        var note = document.createElement("div");
        note.className = "small text-secondary mt-1";
        note.textContent = workaroundLabel + ": " + row.workaround;
        item.append(note);
      }
      results.append(item);
    });
    panel.hidden = rows.length === 0;
  }

  function ask() {
    var query = new URLSearchParams({
      text: (value("title") + " " + value("description")).trim().slice(0, 200),
      service: value("service"),
      configuration_item: value("configuration_item")
    }).toString();
    if (query === asked) { return; }
    asked = query;
    fetch(panel.dataset.suggestUrl + "?" + query, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (response) { return response.ok ? response.json() : {results: []}; })
      .then(function (body) { if (query === asked) { show(body.results || []); } })
      .catch(function () { /* suggestions are a help: the form works without them */ });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(ask, 300);
  }

  fields.forEach(function (name) {
    var field = form.elements.namedItem(name);
    if (field) {
      field.addEventListener("input", later);
      field.addEventListener("change", later);
    }
  });
  if (value("title") || value("service")) { ask(); }
})();
