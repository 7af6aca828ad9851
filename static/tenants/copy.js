// Copy buttons: <button data-copy-target="input-id">. The button stays hidden without JavaScript
// or clipboard access; the input is read-only and selectable either way.
(function () {
  "use strict";
  function setup() {
    document.querySelectorAll("[data-copy-target]").forEach(function (button) {
      var source = document.getElementById(button.getAttribute("data-copy-target"));
      if (!source || !navigator.clipboard) { return; }
      button.hidden = false;
      var status = button.parentElement.querySelector("[data-copy-status]");
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(source.value).then(function () {
          if (status) { status.textContent = button.getAttribute("data-copied-text") || "OK"; }
        }, function () {
          source.focus();
          source.select();
        });
      });
    });
    document.querySelectorAll("[data-copy-source]").forEach(function (input) {
      input.addEventListener("focus", function () { input.select(); });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();
