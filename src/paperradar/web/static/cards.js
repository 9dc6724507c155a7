// paperradar cards: feedback without a page reload, and keyboard shortcuts
// (/ search, j/k next/previous paper, l like, d dislike, o open). Without this file the feedback
// forms post normally and the page comes back; nothing here is needed to use the site.
(function () {
  "use strict";

  function csrf(form) {
    var field = form.querySelector('input[name="csrf_token"]');
    var meta = document.querySelector('meta[name="csrf-token"]');
    return field ? field.value : meta ? meta.content : "";
  }

  function post(url, body, token) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": token, Accept: "application/json" },
      body: JSON.stringify(body),
    }).then(function (r) {
      return r.json().then(function (data) {
        if (!r.ok || !data.ok) throw new Error(data.error || "HTTP " + r.status);
        return data;
      });
    });
  }

  var DONE = { like: "Liked", dislike: "Disliked: it will not come back", not_interested: "Marked not interested" };

  function cardOf(form, button) {
    return (button && button.closest(".card, .row")) || form.closest(".card, .row");
  }

  function showDone(form, kind, card, profile) {
    var status = (card && card.querySelector(".fb-status")) || form.querySelector(".fb-status");
    var other = profile !== form.dataset.profile; // a Like sent to another profile (the "Like for…" menu)
    if (card) {
      card.classList.remove("pending", "done-like", "done-dislike", "done-not_interested");
      card.classList.add("done-" + kind);
    }
    (card || form).querySelectorAll("button.fb, button.like-to").forEach(function (b) {
      var mine = b.classList.contains("like-to") ? b.dataset.profile === profile : !other && b.value === kind;
      b.setAttribute("aria-pressed", mine ? "true" : "false");
    });
    (card || form).querySelectorAll("details.like-for").forEach(function (d) { d.open = false; });
    if (!status) return;
    status.textContent = DONE[kind] + (other ? " for " + profile : "") + " · ";
    var undo = document.createElement("button");
    undo.type = "button";
    undo.className = "link undo";
    undo.textContent = "Undo";
    undo.addEventListener("click", function () {
      var url = "/api/profiles/" + encodeURIComponent(profile) + "/undo";
      post(url, {}, csrf(form)).then(function () {
        if (card) card.classList.remove("done-" + kind);
        (card || form).querySelectorAll("button.fb, button.like-to").forEach(function (b) { b.removeAttribute("aria-pressed"); });
        status.textContent = "Undone";
      }).catch(function (e) { status.textContent = "Undo failed: " + e.message; });
    });
    status.appendChild(undo);
  }

  // the plain form post of the button pressed (form.submit() alone sends neither its kind nor its formaction)
  function postPlain(form, button) {
    var kind = document.createElement("input");
    kind.type = "hidden";
    kind.name = "kind";
    kind.value = button.value;
    form.appendChild(kind);
    form.action = button.formAction || form.action;
    form.submit();
  }

  document.querySelectorAll("form.feedback[data-profile]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      var kind = ev.submitter && ev.submitter.value;
      if (!kind || !window.fetch) return; // the plain form post
      ev.preventDefault();
      var card = cardOf(form, ev.submitter);
      if (card) card.classList.add("pending");
      var paper = form.querySelector('input[name="paper"]').value;
      var profile = ev.submitter.dataset.profile || form.dataset.profile; // "Like for…" names its own
      var url = "/api/profiles/" + encodeURIComponent(profile) + "/feedback";
      post(url, { paper: paper, kind: kind }, csrf(form))
        .then(function () { showDone(form, kind, card, profile); })
        .catch(function () { postPlain(form, ev.submitter); }); // let the server say what went wrong
    });
  });

  // ---------------------------------------------------------------- Home while its first list is computed
  var preparing = document.querySelector("[data-poll]");
  if (preparing) {
    var poll = function () {
      fetch(preparing.dataset.poll, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          if (data.ok && !data.preparing) window.location.reload();
          else window.setTimeout(poll, 2000);
        })
        .catch(function () { window.setTimeout(poll, 5000); });
    };
    window.setTimeout(poll, 1500);
  }

  // ---------------------------------------------------------------- similar papers, after the page
  document.querySelectorAll("[data-similar-src]").forEach(function (box) {
    fetch(box.dataset.similarSrc, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        box.textContent = "";
        if (!data.ok || !data.items.length) {
          var none = document.createElement("p");
          none.className = "muted";
          none.textContent = data.ok ? "No similar papers in the library yet." : data.error;
          box.appendChild(none);
          return;
        }
        var list = document.createElement("ol");
        list.className = "compact";
        data.items.forEach(function (s) {
          var li = document.createElement("li");
          var a = document.createElement("a");
          a.href = "/paper/" + encodeURIComponent(s.id);
          a.textContent = s.label;
          if (!s.title) a.className = "untitled" + (s.fetchable ? " fetchable" : "");
          var meta = document.createElement("div");
          meta.className = "meta";
          meta.textContent = [s.date, s.authors].filter(Boolean).join(" · ");
          li.appendChild(a);
          li.appendChild(meta);
          if (s.reasons && s.reasons.length) {
            var why = document.createElement("div");
            why.className = "reasons";
            why.textContent = s.reasons.join(" · ");
            li.appendChild(why);
          }
          list.appendChild(li);
        });
        box.appendChild(list);
      })
      .catch(function () { box.innerHTML = '<p class="muted">Similar papers could not be loaded.</p>'; });
  });

  // ---------------------------------------------------------------- keyboard shortcuts
  var current = -1;
  function cards() {
    return Array.prototype.slice.call(document.querySelectorAll("main .card, main .row"));
  }
  function select(i) {
    var all = cards();
    if (!all.length) return;
    current = Math.max(0, Math.min(all.length - 1, i));
    all.forEach(function (c, j) { c.classList.toggle("current", j === current); });
    var link = all[current].querySelector(".title a, a.title");
    all[current].scrollIntoView({ block: "nearest" });
    if (link) link.focus({ preventScroll: true });
  }
  function press(kind) {
    var card = cards()[current];
    var btn = card && card.querySelector('button.fb[value="' + kind + '"]');
    if (btn) btn.click();
  }
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var t = ev.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    if (ev.key === "/") {
      var box = document.querySelector("main input[type=search]") || document.querySelector(".top-search input");
      if (box) { ev.preventDefault(); box.focus(); box.select(); }
    } else if (ev.key === "j") { select(current + 1); }
    else if (ev.key === "k") { select(current - 1); }
    else if (ev.key === "l" && current >= 0) { press("like"); }
    else if (ev.key === "d" && current >= 0) { press("dislike"); }
    else if (ev.key === "o" && current >= 0) {
      var link = cards()[current].querySelector(".title a, a.title");
      if (link) link.click();
    }
  });
})();
