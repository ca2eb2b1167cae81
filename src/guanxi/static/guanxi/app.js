// Guanxi front-end glue. No inline scripts (CSP script-src 'self').
document.addEventListener("DOMContentLoaded", function () {
  // Auto-submit filter selects on the customer list.
  document.querySelectorAll("form[data-autosubmit] select").forEach(function (el) {
    el.addEventListener("change", function () { el.form.requestSubmit(); });
  });
  // Confirm destructive buttons.
  document.body.addEventListener("click", function (ev) {
    var btn = ev.target.closest("[data-confirm]");
    if (btn && !window.confirm(btn.getAttribute("data-confirm"))) { ev.preventDefault(); }
  });
});
document.addEventListener("htmx:afterSwap", function (ev) {
  if (ev.detail.target && ev.detail.target.id === "log-form") {
    var first = ev.detail.target.querySelector("textarea");
    if (first && ev.detail.xhr.status === 200) { first.value = ""; }
  }
});
