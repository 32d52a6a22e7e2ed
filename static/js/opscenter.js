/* Small behaviours of every page, kept out of the markup so that the Content-Security-Policy forbids inline
   script: a select that submits its form when changed, a field that selects itself when clicked, a print
   button, and a form whose address is built from its fields. */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var field = event.target.closest("[data-autosubmit]");
    if (field && field.form) { field.form.submit(); }
  });
  document.addEventListener("click", function (event) {
    var field = event.target.closest("[data-select-on-click]");
    if (field) { field.select(); }
    if (event.target.closest("[data-print]")) { window.print(); }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-action-from-fields]");
    if (!form) { return; }
    // data-action-from-fields="/sla/evaluations/ department month": the address, then the fields appended in order.
    var parts = form.getAttribute("data-action-from-fields").split(" ");
    var action = parts[0];
    parts.slice(1).forEach(function (name) { action += encodeURIComponent(form.elements[name].value) + "/"; });
    form.action = action;
  });
})();
