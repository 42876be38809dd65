// The contact page: copy a protocol number, and cascade the classification lists
// (manifestation type → category → subcategory). Without this script the subcategory
// list alone still works.
(function () {
  "use strict";
  // A page swapped in by htmx runs this again: the listeners are set once.
  if (window.atendeContactPage) return;
  window.atendeContactPage = true;
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var text = button.getAttribute("data-copy");
    var done = function () { button.setAttribute("data-copied", "1"); button.textContent = button.getAttribute("data-done"); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () {});
    } else {
      var field = document.createElement("textarea");
      field.value = text; document.body.appendChild(field); field.select();
      try { document.execCommand("copy"); done(); } catch (e) { /* the number stays selectable */ }
      field.remove();
    }
  });

  function narrow(form, parents, level) {
    var upper = form.querySelector('select[data-level="' + (level - 1) + '"]');
    var lower = form.querySelector('select[data-level="' + level + '"]');
    if (!upper || !lower) return;
    var chosen = upper.value;
    Array.prototype.forEach.call(lower.options, function (option) {
      if (!option.value) return;
      var fits = !chosen || String(parents[option.value]) === chosen;
      option.hidden = !fits; option.disabled = !fits;
      if (!fits && option.selected) { lower.value = ""; }
    });
  }

  function cascade(form) {
    if (form.getAttribute("data-cascading")) return;
    form.setAttribute("data-cascading", "1");
    var parents = JSON.parse(form.getAttribute("data-parents") || "{}");
    narrow(form, parents, 2); narrow(form, parents, 3);
    form.addEventListener("change", function (event) {
      var level = Number(event.target.getAttribute("data-level"));
      if (level === 1) { narrow(form, parents, 2); narrow(form, parents, 3); }
      if (level === 2) { narrow(form, parents, 3); }
      if (level === 3 && event.target.value) {
        // Choosing a subcategory names its category and type.
        var category = form.querySelector('select[data-level="2"]');
        var kind = form.querySelector('select[data-level="1"]');
        category.value = String(parents[event.target.value]);
        kind.value = String(parents[category.value]);
      }
    });
  }

  // The forms arrive after the page (htmx), or with it when one was refused.
  function start(root) {
    root.querySelectorAll("form[data-manifestation]").forEach(cascade);
  }
  if (window.htmx) { htmx.onLoad(start); } else { start(document); }
})();
