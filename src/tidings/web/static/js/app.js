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
})();
