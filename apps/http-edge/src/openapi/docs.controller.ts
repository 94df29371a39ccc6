import { Controller, Get, Header } from '@nestjs/common';
import { printSupergraphApi } from '@infra/graphql';
import { ALL_SUBGRAPHS } from '@contracts/contexts';
import { openApiDocumentOf, type OpenApiDocument } from './openapi-document';
import { ROUTE_TABLE } from './route-table';

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!);

/**
 * The API's OpenAPI document, generated once at start-up from the route table, and a plain page
 * listing its operations: no script or CDN asset, so it works offline and under the strict CSP.
 */
@Controller()
export class DocsController {
  private readonly document: OpenApiDocument = openApiDocumentOf(ROUTE_TABLE);
  private readonly graphqlSchema: string = printSupergraphApi(ALL_SUBGRAPHS);
  private readonly page: string = pageOf(this.document, this.graphqlSchema);

  @Get('docs')
  @Header('content-type', 'text/html; charset=utf-8')
  index(): string {
    return this.page;
  }

  @Get('docs/schema.graphql')
  @Header('content-type', 'text/plain; charset=utf-8')
  graphql(): string {
    return this.graphqlSchema;
  }

  @Get('docs/openapi.json')
  openApi(): OpenApiDocument {
    return this.document;
  }
}

function pageOf(document: OpenApiDocument, graphqlSchema: string): string {
  const rows = Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(
      ([method, operation]) =>
        `<li><code>${method.toUpperCase()} ${escapeHtml(path)}</code> ` +
        `${escapeHtml(String(operation.summary ?? ''))}</li>`,
    ),
  );
  return [
    '<!doctype html>',
    `<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(document.info.title)} API</title></head><body>`,
    `<h1>${escapeHtml(document.info.title)} API</h1>`,
    '<p>The machine-readable document: <a href="/docs/openapi.json">/docs/openapi.json</a> (OpenAPI 3.1).</p>',
    `<ul>${rows.join('')}</ul>`,
    '<h2>GraphQL</h2>',
    '<p><code>POST /graphql</code> serves this schema ' +
      '(also at <a href="/docs/schema.graphql">/docs/schema.graphql</a>):</p>',
    `<pre>${escapeHtml(graphqlSchema)}</pre>`,
    '</body></html>',
  ].join('\n');
}
