// Progressive enhancement for new-password fields: a show/hide button, the live checklist and the
// strength gauge. The rules are the server's (POST /api/o/<slug>/password-check): nothing is decided here.
(function () {
  "use strict";
  function debounce(fn, ms) {
    var timer;
    return function () { clearTimeout(timer); var args = arguments; timer = setTimeout(function () { fn.apply(null, args); }, ms); };
  }
  function addToggle(input) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "toggle-password";
    var show = input.form.getAttribute("data-show-label") || "Show", hide = input.form.getAttribute("data-hide-label") || "Hide";
    button.textContent = show;
    button.setAttribute("aria-pressed", "false");
    button.setAttribute("aria-controls", input.id);
    button.addEventListener("click", function () {
      var visible = input.type === "text";
      input.type = visible ? "password" : "text";
      button.textContent = visible ? show : hide;
      button.setAttribute("aria-pressed", visible ? "false" : "true");
    });
    input.insertAdjacentElement("afterend", button);
  }
  function wireChecks(input) {
    var url = input.getAttribute("data-password-check");
    var list = document.getElementById(input.id + "-checks");
    var gauge = document.getElementById(input.id + "-gauge");
    var token = input.form.querySelector("input[name=csrfmiddlewaretoken]");
    if (!url || !list || !token || !window.fetch) { return; }
    var update = debounce(function () {
      fetch(url, {method: "POST", credentials: "same-origin",
                  headers: {"Content-Type": "application/json", "X-CSRFToken": token.value},
                  body: JSON.stringify({password: input.value})})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          data.checks.forEach(function (check) {
            var item = list.querySelector('[data-check="' + check.code + '"]');
            if (item) { item.className = check.passed ? "passed" : "failed"; item.setAttribute("data-passed", check.passed); }
          });
          if (gauge) {
            gauge.hidden = input.value.length === 0;
            gauge.setAttribute("data-strength", data.strength);
            gauge.querySelector("span").textContent = data.strength_label;
          }
        });
    }, 250);
    input.addEventListener("input", update);
  }
  document.querySelectorAll("input[data-new-password]").forEach(function (input) {
    addToggle(input);
    wireChecks(input);
  });
})();
