// The opportunity board (商机看板): drag a card onto another column to move the deal to that stage.
// Native HTML5 drag and drop; the move is posted with the vendored htmx (htmx.ajax), which swaps in
// the refreshed board. No inline scripts (CSP script-src 'self'). Touch screens and keyboards use the
// "move to" menu on each card (an htmx form) instead.
(function () {
  "use strict";

  var dragged = null;

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  function columnOf(target) {
    return target && target.closest ? target.closest(".column[data-stage]") : null;
  }

  function clearTargets() {
    document.querySelectorAll(".column.drop-target").forEach(function (c) { c.classList.remove("drop-target"); });
  }

  document.addEventListener("dragstart", function (ev) {
    var card = ev.target && ev.target.closest ? ev.target.closest(".deal-card[draggable=true]") : null;
    if (!card) { return; }
    dragged = card;
    card.classList.add("dragging");
    ev.dataTransfer.effectAllowed = "move";
    ev.dataTransfer.setData("text/plain", card.getAttribute("data-id"));
  });

  document.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("dragging"); }
    dragged = null;
    clearTargets();
  });

  document.addEventListener("dragover", function (ev) {
    var column = columnOf(ev.target);
    if (!column || !dragged) { return; }
    ev.preventDefault();
    ev.dataTransfer.dropEffect = "move";
    if (!column.classList.contains("drop-target")) {
      clearTargets();
      column.classList.add("drop-target");
    }
  });

  document.addEventListener("drop", function (ev) {
    var column = columnOf(ev.target);
    if (!column || !dragged) { return; }
    ev.preventDefault();
    var card = dragged;
    clearTargets();
    if (column.getAttribute("data-stage") === card.getAttribute("data-stage")) { return; }
    var cards = column.querySelector(".cards");
    if (cards && column.getAttribute("data-kind") === "open") { cards.insertBefore(card, cards.firstChild); }
    card.classList.add("moving");
    var board = document.getElementById("board");
    var query = board ? board.getAttribute("data-query") : "";
    window.htmx.ajax("POST", card.getAttribute("data-move-url") + (query ? "?" + query : ""), {
      target: "#board",
      swap: "innerHTML",
      values: { stage: column.getAttribute("data-stage"), version: card.getAttribute("data-version") },
      headers: { "X-CSRFToken": csrfToken() }
    });
  });

  // A refused move (stale card: someone else changed the deal; bad input) still answers the current
  // board with a message: show it instead of leaving the card where it was dropped.
  document.addEventListener("htmx:beforeSwap", function (ev) {
    var target = ev.detail.target;
    var status = ev.detail.xhr ? ev.detail.xhr.status : 0;
    if (target && target.id === "board" && (status === 400 || status === 409 || status === 422)) {
      ev.detail.shouldSwap = true;
      ev.detail.isError = false;
    }
  });
})();
