// Checks HTTP responses against examples/server/openapi.json: the operation
// of the method and path, a status the document lists for it, the headers it
// requires (X-Correlation-ID on every answer, ETag on the seat map), the
// content type, and the body against the response's schema (ajv, JSON Schema
// 2020-12, as OpenAPI 3.1 means it). A path the document does not have, or a
// method it does not list for the path, must answer 404 or 405 with the
// error body. SPDX-License-Identifier: MIT
import { readFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

export async function loadOpenApi(file) {
  const raw = JSON.parse(readFileSync(file, 'utf8'));
  // Throws with every problem when the document is not valid OpenAPI 3.1.
  await SwaggerParser.validate(structuredClone(raw));
  return new OpenApi(raw);
}

const pointer = (doc, ref) => ref.replace(/^#\//, '').split('/').reduce((o, k) => o[k.replace(/~1/g, '/').replace(/~0/g, '~')], doc);

export class OpenApi {
  constructor(doc) {
    this.doc = doc;
    this.ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(this.ajv);
    this.ajv.addSchema(doc, 'openapi.json');
    this.routes = Object.keys(doc.paths).map((p) => ({
      template: p,
      re: new RegExp('^' + p.replace(/[.]/g, '\\.').replace(/\{[^}]+\}/g, '[^/]+') + '$'),
    }));
    this.seen = new Map(); // "METHOD template" -> Set of statuses seen
  }

  resolve(o) {
    while (o && o.$ref) o = pointer(this.doc, o.$ref);
    return o;
  }

  validator(schemaRef) {
    const v = this.ajv.getSchema('openapi.json' + schemaRef);
    if (!v) throw new Error(`openapi: no schema ${schemaRef}`);
    return v;
  }

  // A media type's schema: a reference into the document, or an inline one without references.
  mediaValidator(schema) {
    return schema.$ref ? this.validator(schema.$ref) : this.ajv.compile(schema);
  }

  // Validates `value` against a component schema by name; returns the value or throws.
  check(name, value, what = name) {
    const v = this.validator(`#/components/schemas/${name}`);
    if (!v(value)) throw new Error(`${what} does not match ${name}: ${this.ajv.errorsText(v.errors)}\n${JSON.stringify(value).slice(0, 2000)}`);
    return value;
  }

  findOperation(method, path) {
    const route = this.routes.find((r) => r.re.test(path));
    if (!route) return { route: null, op: null };
    return { route, op: this.doc.paths[route.template][method.toLowerCase()] || null };
  }

  // res: {status, headers (a Headers), text, json}. Throws a descriptive Error on a mismatch.
  validate(method, url, res) {
    const path = new URL(url).pathname;
    const where = `${method} ${path} → ${res.status}`;
    const { route, op } = this.findOperation(method, path);
    const cid = res.headers.get('x-correlation-id');
    if (!cid || !/^[A-Za-z0-9._-]{1,64}$/.test(cid)) throw new Error(`${where}: X-Correlation-ID missing or invalid: ${cid}`);
    if (!op) {
      const expect = route ? 405 : 404;
      if (res.status !== expect) throw new Error(`${where}: ${route ? 'a method the document does not list' : 'a path the document does not have'} must answer ${expect}`);
      this.checkJson(where, res, '#/components/schemas/Error');
      return;
    }
    const key = `${method.toUpperCase()} ${route.template}`;
    if (!this.seen.has(key)) this.seen.set(key, new Set());
    this.seen.get(key).add(res.status);
    const response = this.resolve(op.responses[String(res.status)]);
    if (!response) throw new Error(`${where}: status ${res.status} is not documented for ${key} (documented: ${Object.keys(op.responses).join(', ')})\n${res.text.slice(0, 500)}`);
    for (const [name, h] of Object.entries(response.headers || {})) {
      const header = this.resolve(h);
      const value = res.headers.get(name);
      if (value == null) {
        if (header.required) throw new Error(`${where}: required header ${name} missing`);
        continue;
      }
      const v = this.ajv.compile(header.schema);
      if (!v(value)) throw new Error(`${where}: header ${name}=${value}: ${this.ajv.errorsText(v.errors)}`);
    }
    if (!response.content) {
      if (res.text.length) throw new Error(`${where}: no body documented, got ${res.text.length} bytes`);
      return;
    }
    const type = (res.headers.get('content-type') || '').split(';')[0].trim().toLowerCase();
    const media = response.content[type];
    if (!media) throw new Error(`${where}: content type "${type}" not documented (${Object.keys(response.content).join(', ')})`);
    if (type === 'application/json') {
      if (res.json === undefined) throw new Error(`${where}: the body is not JSON: ${res.text.slice(0, 200)}`);
      const v = this.mediaValidator(media.schema);
      if (!v(res.json)) throw new Error(`${where}: body does not match: ${this.ajv.errorsText(v.errors)}\n${res.text.slice(0, 2000)}`);
    }
  }

  checkJson(where, res, schemaRef) {
    const type = (res.headers.get('content-type') || '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/json') throw new Error(`${where}: Content-Type ${type}, expected application/json`);
    if (res.json === undefined) throw new Error(`${where}: the body is not JSON: ${res.text.slice(0, 200)}`);
    const v = this.validator(schemaRef);
    if (!v(res.json)) throw new Error(`${where}: body does not match ${schemaRef}: ${this.ajv.errorsText(v.errors)}\n${res.text.slice(0, 2000)}`);
  }

  // Operations and their documented statuses the tests never received (for the log).
  coverage() {
    const out = [];
    for (const [p, item] of Object.entries(this.doc.paths))
      for (const [m, op] of Object.entries(item)) {
        const seen = this.seen.get(`${m.toUpperCase()} ${p}`) || new Set();
        out.push({ op: `${m.toUpperCase()} ${p}`, seen: [...seen].sort(), documented: Object.keys(op.responses) });
      }
    return out;
  }
}
