// Validates an OpenAPI document (swagger-parser: the OpenAPI 3.1 schema, every
// $ref resolves) and compiles every component schema with ajv (JSON Schema
// 2020-12), as the HTTP tests use them. Usage: node check-openapi.mjs FILE
// SPDX-License-Identifier: MIT
import { loadOpenApi } from './openapi-check.mjs';

const file = process.argv[2];
const api = await loadOpenApi(file);
const names = Object.keys(api.doc.components.schemas);
for (const n of names) api.validator(`#/components/schemas/${n}`);
let ops = 0;
for (const item of Object.values(api.doc.paths))
  for (const op of Object.values(item)) {
    ops++;
    for (const [status, r] of Object.entries(op.responses)) {
      const resp = api.resolve(r);
      if (!resp.headers || !resp.headers['X-Correlation-ID']) throw new Error(`${op.operationId} ${status}: no X-Correlation-ID header`);
      const media = resp.content && resp.content['application/json'];
      if (media) api.mediaValidator(media.schema);
    }
  }
console.log(`${file}: valid OpenAPI ${api.doc.openapi}, ${Object.keys(api.doc.paths).length} paths, ${ops} operations, ${names.length} schemas`);
