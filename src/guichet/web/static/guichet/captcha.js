// Progressive enhancement for the anti-robot check: solve an ALTCHA proof of work (protocol v2,
// PBKDF2) in the browser with WebCrypto, and post the payload in place of the typed answer. Without
// JavaScript, or if anything here fails, the text question stays and the member answers it.
// The challenge comes from our own server (data-captcha); nothing is sent to anyone else.
(function () {
  "use strict";
  var input = document.querySelector("input[data-captcha]");
  if (!input || !window.fetch || !window.crypto || !window.crypto.subtle || !window.TextEncoder) { return; }
  var form = input.form;
  var parts = [form.querySelector('label[for="' + input.id + '"]'), document.getElementById(input.id + "-hint")];
  var errors = document.getElementById(input.id + "-error");
  var status = document.createElement("p");
  status.className = "hint";
  status.setAttribute("role", "status");
  var solution = null, pending = null;

  function fromHex(text) {
    var bytes = new Uint8Array(text.length / 2);
    for (var i = 0; i < bytes.length; i++) { bytes[i] = parseInt(text.substr(i * 2, 2), 16); }
    return bytes;
  }
  function toHex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function derive(parameters, nonce, salt, counter) {
    var password = new Uint8Array(nonce.length + 4);
    password.set(nonce);
    new DataView(password.buffer).setUint32(nonce.length, counter, false);   // big-endian, like the server
    var hash = "SHA-" + (parameters.algorithm.split("SHA-")[1] || "256");
    return crypto.subtle.importKey("raw", password, "PBKDF2", false, ["deriveBits"]).then(function (key) {
      return crypto.subtle.deriveBits({name: "PBKDF2", hash: hash, salt: salt, iterations: parameters.cost},
                                      key, (parameters.keyLength || 32) * 8);
    }).then(toHex);
  }
  function solve(challenge) {
    var parameters = challenge.parameters;
    if (parameters.algorithm.indexOf("PBKDF2") !== 0) { return Promise.reject(new Error("unsupported")); }
    var nonce = fromHex(parameters.nonce), salt = fromHex(parameters.salt), prefix = parameters.keyPrefix;
    var started = Date.now(), batch = 8;
    function from(start) {   // a few counters at once: WebCrypto works in parallel
      if (start > 50000000) { return Promise.reject(new Error("not found")); }
      var tries = [];
      for (var c = start; c < start + batch; c++) { tries.push(derive(parameters, nonce, salt, c)); }
      return Promise.all(tries).then(function (keys) {
        for (var i = 0; i < keys.length; i++) {
          if (keys[i].indexOf(prefix) === 0) {
            return {counter: start + i, derivedKey: keys[i], time: Date.now() - started};
          }
        }
        return from(start + batch);
      });
    }
    return from(0).then(function (found) {
      return btoa(JSON.stringify({challenge: challenge, solution: found}));
    });
  }
  function show(visible) {
    parts.forEach(function (part) { if (part) { part.hidden = !visible; } });
    if (errors) { errors.hidden = !visible; }
    input.type = visible ? "text" : "hidden";
  }

  show(false);
  status.textContent = input.getAttribute("data-captcha-working");
  input.insertAdjacentElement("afterend", status);
  pending = fetch(input.getAttribute("data-captcha"), {credentials: "same-origin"})
    .then(function (r) { if (!r.ok) { throw new Error("no challenge"); } return r.json(); })
    .then(solve)
    .then(function (payload) {
      solution = payload;
      input.value = payload;
      status.textContent = input.getAttribute("data-captcha-done");
    })
    .catch(function () {   // the question is still there: the member answers it
      status.remove();
      input.value = "";
      show(true);
    });
  form.addEventListener("submit", function (event) {
    if (solution || input.type !== "hidden") { return; }
    event.preventDefault();
    var submitter = event.submitter;
    pending.then(function () { if (form.requestSubmit) { form.requestSubmit(submitter); } else { form.submit(); } });
  });
})();
