/* The problem form: the incidents are asked when the problem is identified from incidents, the alarm or the
   feedback when it comes from one (without script, both are shown and the service checks them). */
(function () {
  "use strict";

  var source = document.getElementById("id_source");
  if (!source) {
    return;
  }

  function block(id) {
    var input = document.getElementById(id);
    return input ? input.closest(".mb-3") : null;
  }

  var incidents = block("id_incidents");
  var reference = block("id_source_reference");

  function show() {
    if (incidents) {
      incidents.hidden = source.value !== "incidents";
    }
    if (reference) {
      reference.hidden = source.value !== "monitoring" && source.value !== "feedback";
    }
  }

  source.addEventListener("change", show);
  show();
})();
