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
// Copy a greeting (or the calendar URL) to the clipboard before the form is sent: "copy for WeChat".
document.addEventListener("click", function (ev) {
  var btn = ev.target.closest("[data-copy]");
  if (!btn) { return; }
  var source = document.getElementById(btn.getAttribute("data-copy"));
  if (source && navigator.clipboard) {
    navigator.clipboard.writeText(source.value || source.textContent).catch(function () {});
  } else if (source && source.select) {
    source.select();
    try { document.execCommand("copy"); } catch (e) { /* the text stays selected for a manual copy */ }
  }
});
document.addEventListener("click", function (ev) {
  if (ev.target.closest("[data-print]")) { window.print(); }
});
