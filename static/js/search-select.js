/* A choice of several rows made by search (opscenter.core.forms.SearchSelectMultiple): typing asks the
   widget's search address; a result picked becomes a chosen option of the hidden select and a chip. */
(function () {
  "use strict";

  function setUp(box) {
    var select = box.querySelector("select");
    var input = box.querySelector("input[type=search]");
    var results = box.querySelector(".search-select-results");
    var chips = box.querySelector(".search-select-chips");
    var timer = null;
    var asked = 0;

    function chosen(value) {
      return Array.prototype.some.call(select.options, function (o) { return o.value === value; });
    }

    function close() {
      results.innerHTML = "";
      input.setAttribute("aria-expanded", "false");
    }

    function addChip(value, text) {
      var chip = document.createElement("span");
      chip.className = "badge bg-blue-lt search-select-chip";
      chip.dataset.value = value;
      chip.appendChild(document.createTextNode(text));
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "search-select-remove";
      remove.setAttribute("aria-label", box.dataset.remove);
      remove.textContent = "×";
      chip.appendChild(remove);
      chips.appendChild(chip);
    }

    function pick(value, text) {
      if (!chosen(value)) {
        var option = new Option(text, value, true, true);
        select.appendChild(option);
        addChip(value, text);
      }
      input.value = "";
      close();
      input.focus();
    }

    function show(items) {
      results.innerHTML = "";
      items = items.filter(function (item) { return !chosen(String(item.id)); });
      if (!items.length) {
        var none = document.createElement("div");
        none.className = "list-group-item text-secondary";
        none.textContent = box.dataset.empty;
        results.appendChild(none);
      }
      items.forEach(function (item) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "list-group-item list-group-item-action search-select-result";
        button.setAttribute("role", "option");
        button.dataset.value = String(item.id);
        button.textContent = item.text;
        button.addEventListener("click", function () { pick(String(item.id), item.text); });
        results.appendChild(button);
      });
      input.setAttribute("aria-expanded", "true");
    }

    function search() {
      var text = input.value.trim();
      if (text.length < 2) { close(); return; }
      var mine = ++asked;
      var url = box.dataset.searchUrl + (box.dataset.searchUrl.indexOf("?") < 0 ? "?" : "&") + "q=" +
        encodeURIComponent(text);
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (body) { if (mine === asked) { show(body.results || []); } })
        .catch(close);
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(search, 250);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();  // Enter picks the first result; it never sends the form
        var first = results.querySelector(".search-select-result");
        if (first) { first.click(); }
      } else if (event.key === "Escape") {
        close();
      } else if (event.key === "ArrowDown") {
        var next = results.querySelector(".search-select-result");
        if (next) { event.preventDefault(); next.focus(); }
      }
    });
    chips.addEventListener("click", function (event) {
      var remove = event.target.closest(".search-select-remove");
      if (!remove) { return; }
      var chip = remove.closest(".search-select-chip");
      Array.prototype.forEach.call(select.options, function (o) {
        if (o.value === chip.dataset.value) { o.remove(); }
      });
      chip.remove();
      input.focus();
    });
  }

  document.querySelectorAll(".search-select").forEach(setUp);
})();
