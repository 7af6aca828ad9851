// Reported URLs are shown defanged and never as links. A "copy" button puts the real address on
// the clipboard as plain text, for pasting into a blocking system; nothing is opened or fetched.
// Served from the portal (no CDN); works with one delegated listener, including rows htmx swaps in.
(function () {
  "use strict";
  function reveal(root) {
    if (!navigator.clipboard) { return; }
    root.querySelectorAll("button[data-copy-url]").forEach(function (button) { button.hidden = false; });
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy-url]");
    if (!button) { return; }
    event.preventDefault();
    navigator.clipboard.writeText(button.getAttribute("data-copy-url")).then(function () {
      var done = button.getAttribute("data-done");
      var label = button.textContent;
      button.textContent = done;
      window.setTimeout(function () { button.textContent = label; }, 2000);
    });
  });
  document.addEventListener("DOMContentLoaded", function () { reveal(document); });
  document.addEventListener("htmx:afterSwap", function (event) { reveal(event.target); });
})();
