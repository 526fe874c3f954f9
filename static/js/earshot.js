// Keyboard triage. j/k move between open items; o or Enter opens one; e/c/n/x record an
// outcome, i then f/v/s an information request; a/u assign to me or unassign; z undoes
// the decision just made; Space selects for a bulk action; / searches; g i goes to the
// inbox; ? lists every key. Each key presses a control that works by mouse and as a plain
// form too, so the keyboard adds no path of its own.
(function () {
  "use strict";
  var outcomes = { e: "enquiry", c: "complaint", n: "news_item", x: "no_action" };
  var requestTypes = { f: "foi", v: "eir", s: "sar" };
  var prefix = null;  // "i" or "g" while waiting for the second key
  var prefixTimer = null;

  function items() { return Array.prototype.slice.call(document.querySelectorAll("#inbox-items > li.item:not(.decided)")); }
  function focused() { return document.querySelector("#inbox-items > li.item.focused"); }
  function focus(item) {
    var current = focused();
    if (current && current !== item) { current.classList.remove("focused"); }
    if (item) { item.classList.add("focused"); item.focus({ preventScroll: false }); }
  }
  function say(text) {
    var region = document.getElementById("desk-toast");
    if (region) { region.textContent = ""; var p = document.createElement("p"); p.textContent = text; region.appendChild(p); }
  }
  function setPrefix(key) {
    prefix = key;
    clearTimeout(prefixTimer);
    if (key) { prefixTimer = setTimeout(function () { prefix = null; }, 3000); }
  }
  function press(button) { if (button) { button.click(); return true; } return false; }
  function openItem(item) {
    var link = item.querySelector('a[href$="/items/' + item.getAttribute("data-item") + '/"]');
    if (link && document.getElementById("claim-panel") === null) { window.location.assign(link.href); }
  }
  function keysDialog() { return document.getElementById("keys-dialog"); }
  function showKeys() {
    var dialog = keysDialog();
    if (dialog && !dialog.open) { dialog.showModal(); }
  }

  document.addEventListener("click", function (event) {
    var opener = event.target.closest ? event.target.closest("[data-keys-open]") : null;
    if (opener) { showKeys(); }
  });

  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || event.target.isContentEditable) { return; }
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var dialog = keysDialog();
    if (dialog && dialog.open) { return; }  // Esc and the Close button handle it
    var key = event.key;
    if (prefix === "g") {
      setPrefix(null);
      if (key === "i") {
        var desk = document.getElementById("desk");
        var brand = document.querySelector("a.brand");
        var url = desk ? desk.getAttribute("data-inbox-url") : (brand ? brand.href : null);
        if (url) { window.location.assign(url); event.preventDefault(); }
      }
      return;
    }
    if (key === "?") { showKeys(); event.preventDefault(); return; }
    if (key === "g") { setPrefix("g"); event.preventDefault(); return; }
    if (key === "/") {
      var search = document.querySelector('main input[type="search"], main input[name="q"]');
      if (search) { search.focus(); event.preventDefault(); }
      return;
    }
    if (key === "z") {
      if (press(document.querySelector("#desk-toast button[data-undo]"))) { event.preventDefault(); }
      return;
    }
    var list = items();
    if (!list.length) { setPrefix(null); return; }
    var current = focused() || (list.indexOf(document.activeElement) >= 0 ? document.activeElement : null);
    if (current && list.indexOf(current) < 0) { current = null; }
    if (!current && list.length === 1) { current = list[0]; }
    if (prefix === "i") {
      setPrefix(null);
      if (requestTypes[key] && current) {
        var select = current.querySelector('select[name="request_type"]');
        if (select) { select.value = requestTypes[key]; }
        press(current.querySelector('button[data-outcome="information_request"]'));
        event.preventDefault();
      } else if (key === "Escape") {
        say("Information request cancelled.");
      }
      return;
    }
    var index = current ? list.indexOf(current) : -1;
    if (key === "j" || key === "k") {
      var next = key === "j" ? Math.min(index + 1, list.length - 1) : Math.max(index - 1, 0);
      focus(list[next]);
      event.preventDefault();
    } else if (!current) {
      return;
    } else if (outcomes[key]) {
      if (press(current.querySelector('button[data-outcome="' + outcomes[key] + '"]'))) { event.preventDefault(); }
    } else if (key === "i") {
      setPrefix("i");
      say("Information request: press f for FOI, v for EIR or s for subject access (Esc cancels).");
      event.preventDefault();
    } else if (key === "a" || key === "u") {
      if (press(current.querySelector('button[data-assign="' + (key === "a" ? "me" : "none") + '"]'))) { event.preventDefault(); }
    } else if ((key === "o" || key === "Enter") && event.target === current) {
      openItem(current);
      event.preventDefault();
    } else if (key === " " && event.target === current) {
      var box = current.querySelector("input.select-item");
      if (box) { box.click(); event.preventDefault(); }
    }
  });

  // After an item is decided, focus moves to the next one still open; after an
  // assignment or an undo, to the row that came back.
  var pendingNext = null;
  var pendingSame = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    pendingNext = pendingSame = null;
    var elt = event.target;
    var form = elt.closest ? elt.closest("form") : null;
    if (form && (form.classList.contains("hold") || form.classList.contains("undo"))) {
      var target = form.getAttribute("hx-target");
      pendingSame = target ? target.slice(1) : null;
      return;
    }
    var item = elt.closest ? elt.closest("li.item") : null;
    if (!item) { return; }
    var next = item.nextElementSibling;
    while (next && next.classList.contains("decided")) { next = next.nextElementSibling; }
    pendingNext = next && next.classList.contains("item") ? next : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (pendingSame) {
      var row = document.getElementById(pendingSame);
      if (row) { focus(row); }
    } else if (pendingNext && document.body.contains(pendingNext)) {
      focus(pendingNext);
    }
    pendingNext = pendingSame = null;
  });
})();

// Selecting items for a bulk action: Space on a row or a click on its box; Shift-click
// ticks every box between the last one clicked and this one. The count is announced.
(function () {
  "use strict";
  var last = null;
  function boxes() { return Array.prototype.slice.call(document.querySelectorAll("#inbox-items input.select-item")); }
  function recount() {
    var counter = document.getElementById("selected-count");
    if (counter) { counter.textContent = String(boxes().filter(function (b) { return b.checked; }).length); }
  }
  document.addEventListener("click", function (event) {
    var box = event.target;
    if (!box.classList || !box.classList.contains("select-item")) { return; }
    var all = boxes();
    if (event.shiftKey && last && all.indexOf(last) >= 0) {
      var from = all.indexOf(last), to = all.indexOf(box);
      var lo = Math.min(from, to), hi = Math.max(from, to);
      for (var n = lo; n <= hi; n++) { all[n].checked = box.checked; }
    }
    last = box;
    var row = box.closest("li.item");
    if (row) { row.classList.toggle("selected", box.checked); }
    recount();
  });
  document.addEventListener("change", function (event) {
    if (event.target.classList && event.target.classList.contains("select-item")) { recount(); }
  });
  document.addEventListener("htmx:afterSettle", recount);
})();

// The undo toast and other announcements stay for 10 seconds, then the region empties.
(function () {
  "use strict";
  var TOAST_MS = 10000;
  var timer = null;
  function arm() {
    var region = document.getElementById("desk-toast");
    clearTimeout(timer);
    if (region && region.textContent.trim()) {
      timer = setTimeout(function () { region.textContent = ""; }, TOAST_MS);
    }
  }
  document.addEventListener("DOMContentLoaded", arm);
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "desk-toast") { arm(); }
  });
})();

// Presence. The inbox polls who holds its rows (the poller asks for the ids on screen);
// the item page renews its claim by polling, and lets go of it when the officer leaves.
(function () {
  "use strict";
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt.id !== "desk") { return; }
    var ids = Array.prototype.slice.call(document.querySelectorAll("#inbox-items > li.item[data-item]"))
      .slice(0, 200).map(function (row) { return row.getAttribute("data-item"); });
    event.detail.parameters.ids = ids.join(",");
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    // Nothing to ask about when the page shows no rows.
    if (event.detail.elt.id === "desk" && !document.querySelector("#inbox-items > li.item[data-item]")) { event.preventDefault(); }
  });
  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; } catch (e) { return ""; }
  }
  window.addEventListener("pagehide", function () {
    var panel = document.getElementById("claim-panel");
    if (!panel || !panel.querySelector("[data-mine]") || !navigator.sendBeacon) { return; }
    var form = new FormData();
    form.append("csrfmiddlewaretoken", csrfToken());
    form.append("confirm", "release");
    navigator.sendBeacon(panel.getAttribute("data-release"), form);
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
