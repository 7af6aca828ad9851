// While a CSV import runs (a large file takes seconds), show that it is working and stop a double submit.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-import-form]");
    if (!form) { return; }
    var progress = form.querySelector(".import-progress");
    var button = form.querySelector("button[type=submit]");
    if (progress) { progress.hidden = false; }
    if (button) { button.disabled = true; }
  });
})();
