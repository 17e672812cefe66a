// Bootstraps GraphiQL. Kept out of the HTML so the page's CSP can use
// script-src 'self' without 'unsafe-inline'.
(function () {
  'use strict';
  var root = document.getElementById('graphiql');
  var params = new URLSearchParams(window.location.search);

  // Shown in the headers editor on first visit (and sent as-is until the
  // user replaces it). Once edited, shouldPersistHeaders keeps the user's
  // headers in localStorage instead.
  var headersHint = JSON.stringify(
    { Authorization: 'Bearer <token from POST /api/v1/auth/login>' }, null, 2);

  var props = {
    fetcher: GraphiQL.createFetcher({ url: root.dataset.endpoint }),
    defaultHeaders: headersHint,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: true,
  };
  // Shareable links: ?query=...&variables=...&operationName=... prefill the
  // editors. Headers are deliberately not read from the URL, so a crafted
  // link cannot swap in someone else's token.
  if (params.has('query')) props.query = params.get('query');
  if (params.has('variables')) props.variables = params.get('variables');
  if (params.has('operationName')) props.operationName = params.get('operationName');

  ReactDOM.createRoot(root).render(React.createElement(GraphiQL, props));
})();
