// Live preview of Markdown in the admin (no build step). Without JavaScript, the
// form's "Aperçu" button asks the server for the same preview.
"use strict";
(function () {
  function setUp(textarea) {
    var output = document.getElementById(textarea.getAttribute("data-preview"));
    var form = textarea.form;
    if (!output || !form) { return; }
    var timer = null;
    var sent = 0;
    function refresh() {
      var number = ++sent;
      var body = new FormData();
      body.append("body", textarea.value);
      body.append("csrf", form.elements.csrf.value);
      fetch("/admin/preview", { method: "POST", body: body, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          // Only the latest answer counts; the server sanitised the HTML.
          if (html !== null && number === sent) { output.innerHTML = html; }
        })
        .catch(function () { /* keep the last preview */ });
    }
    textarea.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 300);
    });
    if (textarea.value) { refresh(); }
  }
  document.addEventListener("DOMContentLoaded", function () {
    var areas = document.querySelectorAll("textarea[data-preview]");
    for (var i = 0; i < areas.length; i++) { setUp(areas[i]); }
  });
})();
