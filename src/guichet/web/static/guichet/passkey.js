// Progressive enhancement for passkeys (WebAuthn): when the main button is pressed, ask the browser to
// create or use a passkey with the options our server put in data-passkey, put the browser's answer
// (JSON, binary parts in base64url) in the hidden field, and submit the form. Without JavaScript or
// WebAuthn nothing happens here: the page says to choose another method, and that button still works.
(function () {
  "use strict";
  var input = document.querySelector("input[data-passkey]");
  if (!input || !window.PublicKeyCredential || !navigator.credentials) { return; }
  var form = input.form;
  var main = form.querySelector("button.primary");

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    var binary = atob(base64 + "===".slice((base64.length + 3) % 4));
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return bytes.buffer;
  }
  function toText(buffer) {
    var binary = "";
    var bytes = new Uint8Array(buffer);
    for (var i = 0; i < bytes.length; i++) { binary += String.fromCharCode(bytes[i]); }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function descriptors(list) {
    return (list || []).map(function (d) { return {type: d.type, id: toBytes(d.id), transports: d.transports}; });
  }
  // The JSON the server verifies (WebAuthn's PublicKeyCredential JSON form), for both ceremonies.
  function asJSON(credential, response) {
    return {
      id: credential.id, rawId: toText(credential.rawId), type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: Object.assign({clientDataJSON: toText(credential.response.clientDataJSON)}, response)
    };
  }
  function create(options) {
    var publicKey = Object.assign({}, options, {
      challenge: toBytes(options.challenge),
      user: Object.assign({}, options.user, {id: toBytes(options.user.id)}),
      excludeCredentials: descriptors(options.excludeCredentials)
    });
    return navigator.credentials.create({publicKey: publicKey}).then(function (credential) {
      var response = credential.response;
      return asJSON(credential, {
        attestationObject: toText(response.attestationObject),
        transports: response.getTransports ? response.getTransports() : []
      });
    });
  }
  function get(options) {
    var publicKey = Object.assign({}, options, {
      challenge: toBytes(options.challenge), allowCredentials: descriptors(options.allowCredentials)
    });
    return navigator.credentials.get({publicKey: publicKey}).then(function (credential) {
      var response = credential.response;
      return asJSON(credential, {
        authenticatorData: toText(response.authenticatorData), signature: toText(response.signature),
        userHandle: response.userHandle ? toText(response.userHandle) : undefined
      });
    });
  }

  form.addEventListener("submit", function (event) {
    if (event.submitter !== main || input.value) { return; }
    event.preventDefault();
    var options = JSON.parse(input.getAttribute("data-passkey"));
    main.disabled = true;
    (options.user ? create(options) : get(options)).then(function (answer) {
      input.value = JSON.stringify(answer);
    }, function (error) {
      // Cancelled or failed on the device: the server answers with a message and counts no failure.
      input.value = JSON.stringify({error: (error && error.name) || "Error"});
    }).then(function () {
      main.disabled = false;
      form.requestSubmit(main);
    });
  });
})();
