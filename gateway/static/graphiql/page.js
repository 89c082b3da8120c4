// The gateway's GraphiQL page: Strawberry's inline bootstrap script, served as a file so the
// page's Content-Security-Policy allows no inline script. React, ReactDOM, GraphiQL and
// GraphiQLPluginExplorer are the globals of the files the page loads before this one.
// What differs from Strawberry's: no js-cookie, whose only use was to send Django's
// `csrftoken` cookie as x-csrftoken (the gateway sets no cookie: its requests are JSON POSTs).
"use strict";

(function () {
  const EXAMPLE_QUERY = `# Welcome to GraphiQL
#
# GraphiQL is an in-browser tool for writing, validating, and
# testing GraphQL queries.
#
# Type queries into this side of the screen, and you will see intelligent
# typeaheads aware of the current GraphQL type schema and live syntax and
# validation errors highlighted within the text.
#
# Keyboard shortcuts:
#
#       Run Query:  Ctrl-Enter (or press the play button above)
#
#   Auto Complete:  Ctrl-Space (or just start typing)
#
`;

  // URL parameters, for sharing a query: ?q=...&variables=...&headers=...
  const parameters = {};

  for (const entry of window.location.search.slice(1).split("&")) {
    const eq = entry.indexOf("=");
    if (eq >= 0) {
      parameters[decodeURIComponent(entry.slice(0, eq))] = decodeURIComponent(
        entry.slice(eq + 1),
      );
    }
  }

  function updateURL(data) {
    Object.assign(parameters, data);

    const newSearch =
      "?" +
      Object.keys(parameters)
        .filter(function (key) {
          return Boolean(parameters[key]);
        })
        .map(function (key) {
          return encodeURIComponent(key) + "=" + encodeURIComponent(parameters[key]);
        })
        .join("&");
    history.replaceState(null, null, newSearch);
  }

  // The page is served at the GraphQL endpoint itself, whatever prefix a proxy adds.
  const fetchURL = window.location.href.split("?")[0];

  // Queries and mutations: GraphiQL's own fetcher (JSON POSTs).
  const httpFetcher = GraphiQL.createFetcher({ url: fetchURL, headers: {} });

  // Whether the operation GraphiQL runs is a subscription (its parsed document when GraphiQL
  // passes one, else the text's first keyword).
  function isSubscription(params, opts) {
    const ast = opts && opts.documentAST;
    if (ast && ast.definitions) {
      const operations = ast.definitions.filter(function (d) {
        return d.kind === "OperationDefinition";
      });
      const chosen = params.operationName
        ? operations.find(function (d) {
            return d.name && d.name.value === params.operationName;
          })
        : operations[0];
      return Boolean(chosen) && chosen.operation === "subscription";
    }
    return /^\s*subscription\b/.test(params.query || "");
  }

  // Subscriptions: GraphQL over SSE (distinct connections mode) on this same URL. A browser's
  // WebSocket cannot carry an Authorization header; fetch can, so the headers typed in the
  // headers editor (an API key) reach the gateway as they do for a query. Each SSE `next`
  // event is one result; stopping the subscription in GraphiQL aborts the request.
  async function* sseSubscription(params, opts) {
    const controller = new AbortController();
    try {
      const response = await fetch(fetchURL, {
        method: "POST",
        headers: Object.assign(
          { "content-type": "application/json", accept: "text/event-stream" },
          (opts && opts.headers) || {},
        ),
        body: JSON.stringify(params),
        signal: controller.signal,
      });
      const type = response.headers.get("content-type") || "";
      if (!type.startsWith("text/event-stream")) {
        yield await response.json(); // refused before it started: one answer with errors
        return;
      }
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          return;
        }
        buffer += value.replace(/\r\n/g, "\n");
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = "";
          let data = "";
          for (const line of block.split("\n")) {
            if (line.startsWith("event:")) {
              event = line.slice(6).trim();
            } else if (line.startsWith("data:")) {
              data += line.slice(5).trim();
            }
          }
          if (event === "complete") {
            return;
          }
          if (event === "next" && data) {
            yield JSON.parse(data);
          }
        }
      }
    } finally {
      controller.abort();
    }
  }

  function fetcher(params, opts) {
    return isSubscription(params, opts) ? sseSubscription(params, opts) : httpFetcher(params, opts);
  }

  function GraphiQLWithExplorer() {
    const [query, setQuery] = React.useState(parameters.q || EXAMPLE_QUERY);
    const [variables, setVariables] = React.useState(parameters.variables);
    const [headers, setHeaders] = React.useState(parameters.headers);

    function onEditQuery(newQuery) {
      setQuery(newQuery);
      updateURL({ q: newQuery });
    }

    function onEditVariables(newVariables) {
      setVariables(newVariables);
      updateURL({ variables: newVariables });
    }

    function onEditHeaders(newHeaders) {
      setHeaders(newHeaders);
    }

    const explorerPlugin = GraphiQLPluginExplorer.explorerPlugin();

    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
      plugins: [explorerPlugin],
      query: query,
      variables: variables,
      headers: headers,
      onEditQuery: onEditQuery,
      onEditVariables: onEditVariables,
      onEditHeaders: onEditHeaders,
      inputValueDeprecation: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
    });
  }

  const root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(React.createElement(GraphiQLWithExplorer));
})();
