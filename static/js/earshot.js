// Keyboard triage: j/k move between items, e/c/i/n/x record an outcome on the focused one.
(function () {
  "use strict";
  var keys = { e: "enquiry", c: "complaint", i: "information_request", n: "news_item", x: "no_action" };

  function items() { return Array.prototype.slice.call(document.querySelectorAll("#inbox-items > li.item:not(.decided)")); }
  function focused() { return document.querySelector("#inbox-items > li.item.focused"); }
  function focus(item) {
    var current = focused();
    if (current) { current.classList.remove("focused"); }
    if (item) { item.classList.add("focused"); item.focus({ preventScroll: false }); }
  }

  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || event.ctrlKey || event.metaKey || event.altKey) { return; }
    var list = items();
    if (!list.length) { return; }
    var current = focused() || (list.indexOf(document.activeElement) >= 0 ? document.activeElement : null);
    var index = current ? list.indexOf(current) : -1;
    if (event.key === "j" || event.key === "k") {
      var next = event.key === "j" ? Math.min(index + 1, list.length - 1) : Math.max(index - 1, 0);
      focus(list[next]);
      event.preventDefault();
    } else if (keys[event.key] && current) {
      var button = current.querySelector('button[data-outcome="' + keys[event.key] + '"]');
      if (button) { button.click(); event.preventDefault(); }
    }
  });

  // After an item is decided, move the focus to the next one still open.
  var pendingNext = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var item = event.target.closest ? event.target.closest("li.item") : null;
    pendingNext = null;
    if (!item) { return; }
    var next = item.nextElementSibling;
    while (next && next.classList.contains("decided")) { next = next.nextElementSibling; }
    pendingNext = next && next.classList.contains("item") ? next : null;
  });
  document.addEventListener("htmx:afterSwap", function () {
    if (pendingNext && document.body.contains(pendingNext)) { focus(pendingNext); }
    pendingNext = null;
  });
})();
