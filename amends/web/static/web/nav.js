// Phone navigation: on narrow screens the main navigation folds behind a "Menu" button that
// shows every section at once; without JavaScript the navigation simply stays open.
(function () {
  "use strict";
  function foldPanelsOnPhones() {
    // A shorter case page on a phone: long panels start folded; their headings open them.
    if (!window.matchMedia || !window.matchMedia("(max-width: 700px)").matches) return;
    document.querySelectorAll("details[data-fold-on-phone][open]").forEach(function (panel) {
      panel.removeAttribute("open");
    });
  }
  function clearFieldMessages() {
    // Our words instead of the browser's "Please match the requested format": a field with
    // data-invalid-message says what it wants when the browser refuses its value.
    document.addEventListener(
      "invalid",
      function (event) {
        var field = event.target;
        if (field && field.dataset && field.dataset.invalidMessage) {
          field.setCustomValidity(field.validity.valueMissing ? "" : field.dataset.invalidMessage);
        }
      },
      true
    );
    document.addEventListener("input", function (event) {
      var field = event.target;
      if (field && field.dataset && field.dataset.invalidMessage) field.setCustomValidity("");
    });
  }
  function setUp() {
    foldPanelsOnPhones();
    clearFieldMessages();
    var toggle = document.querySelector(".nav-toggle");
    var header = document.querySelector(".site-header");
    if (!toggle || !header) return;
    toggle.hidden = false;
    header.classList.add("nav-collapsible");
    toggle.addEventListener("click", function () {
      var open = header.classList.toggle("nav-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && header.classList.contains("nav-open")) {
        header.classList.remove("nav-open");
        toggle.setAttribute("aria-expanded", "false");
        toggle.focus();
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
