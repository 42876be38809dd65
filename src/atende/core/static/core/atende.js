// Every page: a select marked data-submit-on-change (the language) applies the choice at
// once; without JavaScript its form shows a button instead.
(function () {
  "use strict";
  document.addEventListener("change", (event) => {
    const select = event.target.closest("select[data-submit-on-change]");
    if (select) select.form.requestSubmit();
  });
})();
