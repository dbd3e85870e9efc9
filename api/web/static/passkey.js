// Signing in with a passkey on a sign-in page: ask the server for the options (with the
// form's CSRF token), let the browser's authenticator answer, and post its answer in the
// hidden form. As finishPasskeySignIn does it: the passkey names the account.
"use strict";
(function () {
  const form = document.getElementById("passkey-form");
  const button = document.getElementById("passkey-button");
  const status = document.getElementById("passkey-status");
  if (!form || !button) return;
  const supported =
    window.PublicKeyCredential && PublicKeyCredential.parseRequestOptionsFromJSON && navigator.credentials;
  if (!supported) {
    status.textContent = "This browser cannot sign in with a passkey.";
    return;
  }
  button.hidden = false;
  button.addEventListener("click", async () => {
    status.textContent = "Waiting for your passkey...";
    try {
      const body = new FormData();
      body.append("csrf", form.elements.csrf.value);
      const response = await fetch(form.getAttribute("data-options"), {
        method: "POST", body, credentials: "same-origin",
      });
      if (!response.ok) throw new Error("the server refused (" + response.status + ")");
      const answer = await response.json();
      const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(JSON.parse(answer.options));
      const credential = await navigator.credentials.get({ publicKey });
      form.elements.challenge_id.value = answer.challengeId;
      form.elements.credential.value = JSON.stringify(credential.toJSON());
      form.submit();
    } catch (error) {
      status.textContent = "No passkey sign-in: " + error.message;
    }
  });
})();
