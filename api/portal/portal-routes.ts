import fs from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Router, type Request, type Response } from 'express';

const portalDir = path.resolve(__dirname, '../../portal');

interface Asset {
  body: Buffer;
  gzip: Buffer;
  type: string;
}

/**
 * Builds the portal's script from portal/*.ts with esbuild, once per process, in memory: nobody runs a build step
 * (`npm run demo`, `npm test` and `npm run api` all serve it). Preact + htm + our code, minified: ~20 KB gzipped.
 */
async function buildAssets(): Promise<Record<string, Asset>> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [path.join(portalDir, 'main.ts')],
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2020',
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const css = await fs.readFile(path.join(portalDir, 'styles.css'));
  const asset = (body: Buffer, type: string): Asset => ({ body, gzip: gzipSync(body, { level: 9 }), type });
  return {
    'app.js': asset(Buffer.from(result.outputFiles[0].contents), 'text/javascript; charset=utf-8'),
    'app.css': asset(css, 'text/css; charset=utf-8'),
  };
}

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/**
 * The operator portal: a single page under /portal/ that talks to this API only through its public routes (with the
 * session cookie of POST /session). Mounted before authentication: the page and its script hold nothing secret.
 */
export function portalRoutes(deps: { temporalWebUiUrl: string; namespace: string }): Router {
  const router = Router();
  let assets: Promise<Record<string, Asset>> | undefined;
  const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="temporal-web-ui" content="${escapeAttr(deps.temporalWebUiUrl)}">
<meta name="temporal-namespace" content="${escapeAttr(deps.namespace)}">
<title>entra-backup</title>
<link rel="stylesheet" href="/portal/app.css">
<script type="module" src="/portal/app.js"></script>
</head>
<body><div id="app"></div><noscript>The entra-backup portal needs JavaScript.</noscript></body>
</html>`;

  const securityHeaders = (res: Response) =>
    res.set({
      'Content-Security-Policy':
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    });

  router.get('/', (_req, res) => res.redirect(302, '/portal/'));
  // Express routes are not strict: '/portal' also matches '/portal/', the page's own address (relative links).
  router.get('/portal', (req, res) => {
    if (!req.path.endsWith('/')) return res.redirect(302, '/portal/');
    securityHeaders(res);
    res.set('Cache-Control', 'no-cache').type('html').send(page);
  });
  router.get('/portal/:asset', async (req: Request, res: Response, next) => {
    const name = String(req.params.asset);
    if (name !== 'app.js' && name !== 'app.css') return next();
    assets ??= buildAssets();
    let asset: Asset;
    try {
      asset = (await assets)[name];
    } catch (err) {
      assets = undefined;
      throw err;
    }
    securityHeaders(res);
    res.set({ 'Content-Type': asset.type, 'Cache-Control': 'no-cache', Vary: 'Accept-Encoding' });
    if (req.acceptsEncodings('gzip')) res.set('Content-Encoding', 'gzip').send(asset.gzip);
    else res.send(asset.body);
  });
  return router;
}
