// Live counters of the broadcast form: characters, SMS segments, GSM-7 or not, recipients, cost. The server
// computes them (one source of truth with what is sent); without JavaScript, "Aperçu" shows the same figures.
"use strict";
(function () {
  var form = document.getElementById("compose");
  if (!form) { return; }
  var url = form.getAttribute("data-count-url");
  var csrf = form.getAttribute("data-csrf");
  var timer = null;
  function show(name, text) {
    var node = form.querySelector('[data-counter="' + name + '"]');
    if (node) { node.textContent = text; }
  }
  function euros(amount) { return amount.toFixed(2).replace(".", ",") + " €"; }
  function refresh() {
    var body = new URLSearchParams(new FormData(form));
    fetch(url, { method: "POST", body: body, headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" })
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (figures) {
        if (!figures) { return; }
        show("characters", String(figures.characters));
        show("segments", String(figures.segments));
        show("gsm7", figures.gsm7 ? "GSM-7" : "hors GSM-7 : " + figures.offending);
        show("recipients", figures.recipients === null ? "?" : String(figures.recipients));
        show("cost", figures.cost === null ? "?" : euros(figures.cost));
      })
      .catch(function () { /* the counters are a help; "Aperçu" still works */ });
  }
  function later() { clearTimeout(timer); timer = setTimeout(refresh, 250); }
  form.addEventListener("input", later);
  form.addEventListener("change", later);
  refresh();
})();
