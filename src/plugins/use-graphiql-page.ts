import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { Plugin } from 'graphql-yoga';

type Encoding = 'br' | 'gzip' | 'identity';
const brotliAsync = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** The encoding a client's `Accept-Encoding` allows, best first (brotli, gzip, none). */
function encodingFor(accept: string | null): Encoding {
  const offered = (accept ?? '').toLowerCase();
  if (/\bbr\b/.test(offered)) return 'br';
  if (/\bgzip\b/.test(offered)) return 'gzip';
  return 'identity';
}

/**
 * The GraphiQL page, made once: its assets are inlined (no CDN), so the page is about 9 MB, and
 * yoga rendered and sent it whole on every GET, at tens of ms of CPU each, to anyone. Here the page
 * is rendered once, and each encoding made once on first need (brotli and gzip about 2 MB); every
 * later GET is answered from memory.
 *
 * `render` is yoga's `renderGraphiQL` (the options never change in a gateway's life); the plugin
 * replaces yoga's answer with the kept bytes, in the encoding the client accepts. It must come before
 * the plugins that stamp headers on every response (request id, no-store), so they stamp this one.
 */
export function graphiqlPage(render: (options: object) => Promise<string>): {
  render: (options: object) => Promise<string>;
  plugin: Plugin;
} {
  let html: Promise<string> | undefined;
  // Made once each, in libuv's thread pool (brotli takes about a second of CPU): the event loop
  // keeps serving meanwhile, and concurrent first requests wait for the same promise.
  const bodies = new Map<Encoding, Promise<Buffer>>();
  function body(encoding: Encoding): Promise<Buffer> {
    let bytes = bodies.get(encoding);
    if (!bytes) {
      bytes = (html as Promise<string>).then((text) => {
        const plain = Buffer.from(text, 'utf8');
        if (encoding === 'br') return brotliAsync(plain, { params: { [constants.BROTLI_PARAM_QUALITY]: 9 } });
        return encoding === 'gzip' ? gzipAsync(plain, { level: 9 }) : plain;
      });
      bodies.set(encoding, bytes);
    }
    return bytes;
  }
  return {
    render(options) {
      html ??= render(options);
      return html;
    },
    plugin: {
      async onResponse({ request, response, setResponse, fetchAPI }) {
        if (html === undefined || request.method !== 'GET') return;
        if (!/\/graphql\/?$/.test(new URL(request.url).pathname)) return;
        if (response.headers.get('content-type') !== 'text/html') return;
        const encoding = encodingFor(request.headers.get('accept-encoding'));
        const bytes = await body(encoding);
        setResponse(
          new fetchAPI.Response(bytes as unknown as BodyInit, {
            status: 200,
            headers: {
              'content-type': 'text/html; charset=utf-8',
              'content-length': String(bytes.length),
              vary: 'Accept-Encoding',
              ...(encoding === 'identity' ? {} : { 'content-encoding': encoding }),
            },
          }),
        );
      },
    },
  };
}
