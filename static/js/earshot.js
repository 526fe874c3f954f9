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

// A refused or failed htmx request says why, beside the control that sent it. htmx swaps
// nothing on a 4xx/5xx, so without this the officer would see nothing happen. The text is
// set with textContent only: a refusal may quote what was posted.
(function () {
  "use strict";
  var MAX_CHARS = 500;

  function anchorFor(elt) {
    var item = elt && elt.closest ? elt.closest("li.item") : null;
    return item || elt || document.getElementById("main") || document.body;
  }

  function existingProblem(anchor) {
    var box = anchor.tagName === "LI" ? anchor.querySelector(":scope > .request-problem") : anchor.nextElementSibling;
    return box && box.classList.contains("request-problem") ? box : null;
  }

  function problemFor(anchor) {
    var box = existingProblem(anchor);
    if (box) { return box; }
    box = document.createElement("p");
    box.className = "request-problem";
    box.setAttribute("role", "alert");
    if (anchor.tagName === "LI" || anchor === document.body || anchor.id === "main") { anchor.appendChild(box); }
    else { anchor.insertAdjacentElement("afterend", box); }
    return box;
  }

  function show(elt, text) {
    var box = problemFor(anchorFor(elt));
    box.textContent = text.length > MAX_CHARS ? text.slice(0, MAX_CHARS) + "…" : text;
  }

  function clear(elt) {
    var box = existingProblem(anchorFor(elt));
    if (box) { box.remove(); }
  }

  // The server's words: plain text as sent, or the alert of an HTML error page, parsed
  // inertly (a DOMParser document runs no script and loads nothing).
  function messageOf(xhr) {
    var type = (xhr.getResponseHeader("Content-Type") || "").toLowerCase();
    var body = xhr.responseText || "";
    if (type.indexOf("text/plain") === 0) { return body.trim(); }
    if (type.indexOf("text/html") === 0 && body) {
      var page = new DOMParser().parseFromString(body, "text/html");
      var part = page.querySelector("[role=alert]") || page.querySelector("main .narrow p") || page.querySelector("main p");
      if (part) { return part.textContent.replace(/\s+/g, " ").trim(); }
    }
    return "";
  }

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var text = messageOf(xhr);
    if (!text) {
      text = xhr.status >= 500
        ? "Earshot could not do that just now (error " + xhr.status + "). Nothing was changed; try again in a moment."
        : "That was refused (error " + xhr.status + "). Reload the page and try again.";
    }
    show(event.detail.elt, text);
  });

  document.addEventListener("htmx:sendError", function (event) {
    show(event.detail.elt, "Earshot could not be reached. Check your connection and try again; nothing was changed.");
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful) { clear(event.detail.elt); }
  });
})();
