/**
 * Every hook of every plugin the gateway composes (server.ts), and what the front door does about
 * it: `pipeline:` it runs there as on yoga's path, because the front door walks yoga's envelop
 * (parse, validate, contextFactory, execute); `framing:` the front door does the same thing itself
 * while framing the request (and hands over whatever it does not); `n/a:` it cannot apply to what
 * the front door serves, and why. A plugin or hook missing here fails a test
 * (test/gateway/hot-path.test.ts): weigh a new one against the front door before listing it.
 *
 * yoga's own plugins, added after these, are the same kinds: its parse, validation and context
 * plugins and its error masking run in the pipeline; its request parsers, CORS, parameter checks,
 * GET-mutation guard and result processors are HTTP hooks the front door's framing stands in for
 * (a POST of JSON with a length and no `Origin`, `query`/`variables`/`operationName` only, yoga's
 * `processRegularResult`); anything else is handed over.
 */
export const frontDoorHooks: Record<string, Record<string, string>> = {
  'graphql-jit': {
    onExecute: 'pipeline: envelop execute, so a repeated one-operation document runs compiled',
    onSubscribe: 'n/a: subscriptions are handed over (and refused there)',
  },
  'graphiql page': {
    onResponse: 'n/a: the page is a GET, which the front door hands over',
  },
  'request lifecycle': {
    onRequest: 'framing: the front door calls lifecycle.begin once it serves the request',
    onExecute: 'pipeline: envelop execute',
    onResultProcess: 'framing: the front door calls lifecycle.result before it serializes',
    onResponse: 'framing: the front door calls lifecycle.headers and lifecycle.end as it answers',
  },
  'request guards': {
    onRequestParse:
      'framing: only POSTs of application/json with an Accept that allows JSON are served; the rest, and a body that is not JSON, are handed over',
  },
  'session guard': {
    onRequest:
      'framing: a request carrying the session cookie is handed over unread, and refused there before its body is read',
    onExecute:
      'pipeline: envelop execute (a cookie with a bearer token runs startSession alone; such a request is handed over anyway)',
  },
  'body limit': {
    onRequestParse: 'framing: a Content-Length within MAX_REQUEST_BODY_BYTES, else handed over',
  },
  'caller authentication': {
    onRequestParse:
      'framing: the front door authenticates before parsing; a failure is handed over with its verdict',
  },
  'trusted documents': {
    onParams:
      'framing: only backends are served when trusted documents are configured, and a documentId is handed over',
    onParse: 'pipeline: envelop parse (it acts only on a trusted document named by id)',
    onValidate: 'pipeline: envelop validate (it acts only on a trusted document named by id)',
  },
  'introspection switch': { onValidate: 'pipeline: envelop validate' },
  'csrf prevention': {
    onRequestParse: 'n/a: a POST of application/json needs a preflight in a browser: no CSRF risk',
  },
  'max tokens': { onParse: 'pipeline: envelop parse' },
  'max depth': { onValidate: 'pipeline: envelop validate' },
  'max aliases': { onValidate: 'pipeline: envelop validate' },
  'max directives': { onValidate: 'pipeline: envelop validate' },
  'cost limit': { onValidate: 'pipeline: envelop validate' },
  'block field suggestions': { onValidate: 'pipeline: envelop validate' },
  'post for tokens': { onParse: 'pipeline: envelop parse' },
  'supported operations': { onParse: 'pipeline: envelop parse' },
  readiness: {
    onYogaInit: 'n/a: runs once when yoga starts, not per request',
    onRequest: 'n/a: /ready and /health are GETs, which the front door hands over',
  },
};
