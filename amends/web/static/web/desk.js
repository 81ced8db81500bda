/* Keyboard shortcuts for the staff pages (listed on "?"):
     j / k   next / previous case in a list (Enter opens it)
     /       the search box
     a       acknowledge the case (case page)
     r       reply: the message box (case page)
     ?       this list
   Keys typed into a field, or with Ctrl/Alt/Meta, are left alone. No inline script: CSP. */
(function () {
  "use strict";

  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-list-row]"));
  }

  function move(step) {
    var all = rows();
    if (!all.length) return;
    var current = all.indexOf(document.querySelector("[data-list-row].is-selected"));
    var next = current === -1 ? 0 : Math.min(Math.max(current + step, 0), all.length - 1);
    all.forEach(function (row) { row.classList.remove("is-selected"); row.removeAttribute("aria-current"); });
    var row = all[next];
    row.classList.add("is-selected");
    row.setAttribute("aria-current", "true");
    var link = row.querySelector("a");
    if (link) link.focus();
  }

  function click(selector) {
    var el = document.querySelector(selector);
    if (el && !el.disabled) { el.click(); return true; }
    return false;
  }

  function focus(selector) {
    var el = document.querySelector(selector);
    if (!el) return false;
    el.focus();
    if (el.select && el.type === "search") el.select();
    return true;
  }

  function help() {
    var dialog = document.getElementById("shortcuts-help");
    if (!dialog || !dialog.showModal) return;
    if (dialog.open) dialog.close(); else dialog.showModal();
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.altKey || event.metaKey || event.defaultPrevented) return;
    if (typing(event.target)) {
      if (event.key === "Escape" && event.target.blur) event.target.blur();
      return;
    }
    var handled = false;
    switch (event.key) {
      case "j": move(1); handled = true; break;
      case "k": move(-1); handled = true; break;
      case "/": handled = focus("[data-shortcut='/']"); break;
      case "a": handled = click("#action-acknowledge"); break;
      case "r": handled = focus(".message-form textarea"); break;
      case "?": help(); handled = true; break;
    }
    if (handled) event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    var closer = event.target.closest && event.target.closest("[data-dialog-close]");
    if (closer) {
      var dialog = closer.closest("dialog");
      if (dialog) dialog.close();
    }
  });
})();
