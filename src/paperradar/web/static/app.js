// paperradar: small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  // "select all" checkbox: <input type="checkbox" data-select-all="FIELD">
  document.querySelectorAll("[data-select-all]").forEach(function (box) {
    box.addEventListener("change", function () {
      var form = box.form || document;
      form.querySelectorAll('input[type="checkbox"][name="' + box.dataset.selectAll + '"]').forEach(function (c) {
        c.checked = box.checked;
      });
    });
  });
  // a submit button that needs at least one checked box: data-needs-selection="FIELD"
  document.querySelectorAll("[data-needs-selection]").forEach(function (btn) {
    btn.addEventListener("click", function (ev) {
      var form = btn.form;
      if (form && !form.querySelector('input[name="' + btn.dataset.needsSelection + '"]:checked')) {
        ev.preventDefault();
        alert("Select at least one paper first.");
      }
    });
  });
  // a select that submits its form when changed: data-autosubmit (no inline handlers: strict CSP)
  document.querySelectorAll("select[data-autosubmit]").forEach(function (sel) {
    sel.addEventListener("change", function () {
      if (sel.form) sel.form.submit();
    });
  });
  // a running import job: poll its progress, show the report when it ends
  var job = document.querySelector("[data-job]");
  if (job) {
    var poll = function () {
      fetch("/api/jobs/" + job.dataset.job, { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (body) {
          var j = body.job || {};
          if (j.state === "queued" || j.state === "running") {
            var n = job.querySelector("[data-job-done]");
            if (n) n.textContent = (j.done || 0).toLocaleString();
            window.setTimeout(poll, 1000);
          } else {
            window.location.assign("/import?job=" + encodeURIComponent(job.dataset.job));
          }
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    };
    window.setTimeout(poll, 1000);
  }
  // forms that ask before they act: data-confirm="question"
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (!window.confirm(form.dataset.confirm)) ev.preventDefault();
    });
  });
  // feedback buttons: disable while the request is on its way (the page then reloads)
  document.querySelectorAll("form.feedback").forEach(function (form) {
    form.addEventListener("submit", function () {
      var card = form.closest(".rec");
      if (card) card.classList.add("pending");
    });
  });
})();
