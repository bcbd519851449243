import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Header, NotFoundException, Param, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';

// The usage page: static HTML and script that call the analytics API from the browser,
// and uPlot (npm `uplot`, MIT) served from node_modules, so nothing loads from a CDN.
const PAGE_DIR = join(__dirname, 'usage-page');
const UPLOT_DIR = join(require.resolve('uplot/package.json'), '..', 'dist');

interface Asset {
  readonly body: Buffer;
  readonly type: string;
}

function asset(path: string, type: string): Asset {
  return { body: readFileSync(path), type };
}

const ASSETS: ReadonlyMap<string, Asset> = new Map([
  ['usage-page.js', asset(join(PAGE_DIR, 'usage-page.js'), 'text/javascript; charset=utf-8')],
  ['usage-page.css', asset(join(PAGE_DIR, 'usage-page.css'), 'text/css; charset=utf-8')],
  [
    'uPlot.iife.min.js',
    asset(join(UPLOT_DIR, 'uPlot.iife.min.js'), 'text/javascript; charset=utf-8'),
  ],
  ['uPlot.min.css', asset(join(UPLOT_DIR, 'uPlot.min.css'), 'text/css; charset=utf-8')],
]);
const PAGE = readFileSync(join(PAGE_DIR, 'index.html'));

// Only our own files, no inline script: the page cannot be made to run anything else.
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:";

@Controller('usage')
export class UsagePageController {
  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('content-security-policy', CSP)
  @Header('cache-control', 'no-cache')
  page(): Buffer {
    return PAGE;
  }

  @Get('assets/:name')
  @Header('cache-control', 'public, max-age=300')
  @Header('x-content-type-options', 'nosniff')
  assetFile(@Param('name') name: string, @Res({ passthrough: true }) reply: FastifyReply): Buffer {
    const found = ASSETS.get(name);
    if (!found) throw new NotFoundException();
    void reply.header('content-type', found.type);
    return found.body;
  }
}
