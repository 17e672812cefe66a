// Bootstraps Swagger UI. Kept out of the HTML so the page's CSP can use
// script-src 'self' without 'unsafe-inline'.
(function () {
  'use strict';
  var root = document.getElementById('swagger-ui');
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    // The default validator badge calls validator.swagger.io; the pages must
    // never reach the internet (air-gapped networks).
    validatorUrl: null,
  });
})();
