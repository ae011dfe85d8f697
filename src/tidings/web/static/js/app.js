/* Tidings progressive enhancement. Every page works without this file. */
(function () {
  "use strict";

  if ("serviceWorker" in navigator) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {
        /* No offline reading, nothing else lost. */
      });
    });
  }

  // The install button stays hidden until the browser says installation is possible.
  var installPrompt = null;

  function installButtons() {
    return document.querySelectorAll("[data-install-button]");
  }

  function showInstallButtons(visible) {
    installButtons().forEach(function (button) {
      button.hidden = !visible;
    });
  }

  window.addEventListener("beforeinstallprompt", function (event) {
    event.preventDefault();
    installPrompt = event;
    showInstallButtons(true);
  });

  window.addEventListener("appinstalled", function () {
    installPrompt = null;
    showInstallButtons(false);
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-install-button]");
    if (!button || !installPrompt) return;
    var prompt = installPrompt;
    installPrompt = null;
    prompt.prompt();
    prompt.userChoice.finally(function () {
      showInstallButtons(false);
    });
  });

  // AI answers from a model stream over Server-Sent Events: the draft appears as it is written,
  // then the server's verified answer (every sentence checked against its citation) replaces it.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-stream]") || !window.EventSource) return;
    var slot = document.querySelector(form.getAttribute("data-target"));
    var input = form.querySelector("[name=q]");
    if (!slot || !input || !input.value.trim()) return;
    event.preventDefault();
    var draft = document.createElement("p");
    draft.className = "ai-draft";
    slot.replaceChildren(draft);
    var source = new EventSource(form.getAttribute("data-stream") + "?q=" + encodeURIComponent(input.value));
    source.addEventListener("delta", function (message) {
      draft.textContent += JSON.parse(message.data).text;
    });
    source.addEventListener("done", function (message) {
      source.close();
      slot.innerHTML = JSON.parse(message.data).html;
    });
    source.onerror = function () {
      source.close();
      form.submit(); // fall back to the plain page
    };
  });
})();
