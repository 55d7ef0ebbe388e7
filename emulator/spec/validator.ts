/**
 * Validates ARM response bodies against Microsoft's OpenAPI (Swagger 2.0) specs with ajv, resolving
 * $ref across files. Missing ref targets (the "Known gaps" of the reference set) become open schemas {}.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

export interface SpecOperation {
  method: string;
  template: string;
  regex: RegExp;
  operationId: string;
  file: string;
  fileUrl: string;
  op: any;
  pathParams: any[];
}

export interface RecordLike {
  method: string;
  path: string;
  status: number;
  responseBody?: unknown;
  servedBy?: string;
  operationId?: string;
  query?: string;
}

export interface ValidationFailure {
  method: string;
  path: string;
  status: number;
  operationId?: string;
  errors: string[];
}

export interface ValidationReport {
  validated: number;
  failures: ValidationFailure[];
  /** Recorded responses of paths no spec file describes. */
  unmatched: string[];
  /** Paths outside the copied reference set, validated against ARM common types or skipped. */
  outsideSpecSet: string[];
}

/** Paths the emulator serves that the copied spec files do not describe. */
// availabilitySet.json and proximityPlacementGroup.json (Compute 2024-11-01) are not in the reference
// set: the emulator serves them after Microsoft's files (emulator/compute/placement.ts), unvalidated here;
// nor is natGateway.json (Network 2024-05-01): emulator/network/natGateways.ts.
const OUTSIDE_SPEC_SET = [
  /^\/subscriptions\/[^/]+\/resourcegroups(\/[^/]+)?$/i,
  /^\/subscriptions\/[^/]+\/providers\/Microsoft\.Compute\/skus$/i,
  /^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/Microsoft\.Compute\/(availabilitySets|proximityPlacementGroups)(\/[^/]+)?$/i,
  /^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/Microsoft\.Network\/natGateways(\/[^/]+)?$/i,
];

const OPERATION_STATUS = /\/providers\/Microsoft\.(Compute|Network)\/locations\/[^/]+\/(operations|DiskOperations)\/[^/]+$/i;
const OPERATION_RESULT = /\/providers\/Microsoft\.(Compute|Network)\/locations\/[^/]+\/(operationResults)\/[^/]+$/i;

export function findSpecRoot(start = __dirname): string {
  if (process.env.AZURE_SPECS_DIR) return process.env.AZURE_SPECS_DIR;
  let dir = start;
  for (let i = 0; i < 8; i++) {
    const candidate = path.join(dir, '..', 'shared', 'reference', 'azure-rest-api-specs');
    if (fs.existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error('azure-rest-api-specs not found: set AZURE_SPECS_DIR');
}

function walkJson(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walkJson(p, out);
    else if (e.name.endsWith('.json')) out.push(p);
  }
  return out;
}

function collectRefs(node: unknown, out: string[]): void {
  if (Array.isArray(node)) node.forEach((n) => collectRefs(n, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else collectRefs(v, out);
    }
  }
}

/** Extensible enums (x-ms-enum.modelAsString) accept values beyond the listed ones, as the spec says. */
function openExtensibleEnums(node: unknown): void {
  if (Array.isArray(node)) node.forEach(openExtensibleEnums);
  else if (node && typeof node === 'object') {
    const o = node as Record<string, any>;
    if (Array.isArray(o.enum) && o['x-ms-enum']?.modelAsString === true) delete o.enum;
    Object.values(o).forEach(openExtensibleEnums);
  }
}

/**
 * Swagger definitions with `properties` often omit `type: object`; Azure still refuses a non-object
 * there. Walks schema positions only (definitions, properties, items, allOf, additionalProperties,
 * parameter and response schemas) and adds the missing type.
 */
function typeObjects(doc: any): void {
  const seen = new Set<any>();
  const fix = (schema: any): void => {
    if (!schema || typeof schema !== 'object' || seen.has(schema)) return;
    seen.add(schema);
    if (schema.properties && typeof schema.properties === 'object' && schema.type === undefined) schema.type = 'object';
    for (const v of Object.values<any>(schema.properties ?? {})) fix(v);
    if (schema.items) fix(schema.items);
    for (const v of schema.allOf ?? []) fix(v);
    if (schema.additionalProperties && typeof schema.additionalProperties === 'object') fix(schema.additionalProperties);
  };
  for (const d of Object.values<any>(doc.definitions ?? {})) fix(d);
  for (const p of Object.values<any>(doc.parameters ?? {})) fix(p?.schema);
  for (const ops of Object.values<any>(doc.paths ?? {})) {
    for (const op of Object.values<any>(ops ?? {})) {
      for (const p of op?.parameters ?? []) fix(p?.schema);
      for (const r of Object.values<any>(op?.responses ?? {})) fix(r?.schema);
    }
  }
}

function absolutize(node: unknown, base: string): unknown {
  if (Array.isArray(node)) return node.map((n) => absolutize(n, base));
  if (node && typeof node === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      o[k] = k === '$ref' && typeof v === 'string' ? new URL(v, base).href : absolutize(v, base);
    }
    return o;
  }
  return node;
}

export class SpecValidator {
  readonly operations: SpecOperation[] = [];
  readonly ajv: Ajv;
  private cache = new Map<string, ValidateFunction>();
  readonly placeholders: string[] = [];
  private readonly docsByUrl = new Map<string, any>();

  constructor(readonly root: string) {
    this.ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false, logger: false });
    addFormats(this.ajv);
    for (const f of ['arm-id', 'duration', 'unixtime', 'decimal', 'base64url', 'date-time-rfc1123', 'uuid', 'url']) {
      if (!this.ajv.formats[f]) this.ajv.addFormat(f, true);
    }
    const files = walkJson(path.join(root, 'specification')).filter((f) => !f.includes(`${path.sep}examples${path.sep}`));
    const docs = new Map<string, any>();
    for (const f of files) {
      const doc = JSON.parse(fs.readFileSync(f, 'utf8'));
      openExtensibleEnums(doc);
      typeObjects(doc);
      docs.set(f, doc);
    }
    // Placeholders for ref targets that are not in the reference set (treated as open schemas).
    const missing = new Map<string, Set<string>>();
    for (const [f, doc] of docs) {
      const refs: string[] = [];
      collectRefs(doc, refs);
      for (const ref of refs) {
        const [file, pointer] = ref.split('#');
        if (!file) continue;
        const target = path.resolve(path.dirname(f), file);
        if (docs.has(target) || fs.existsSync(target)) continue;
        if (!missing.has(target)) missing.set(target, new Set());
        if (pointer) missing.get(target)!.add(pointer);
      }
    }
    for (const [target, pointers] of missing) {
      const doc: any = {};
      for (const ptr of pointers) {
        const parts = ptr
          .split('/')
          .filter(Boolean)
          .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
        let cur = doc;
        for (const part of parts) cur = cur[part] ??= {};
      }
      this.ajv.addSchema(doc, pathToFileURL(target).href);
      this.placeholders.push(target);
    }
    for (const [f, doc] of docs) {
      const url = pathToFileURL(f).href;
      this.docsByUrl.set(url, doc);
      this.ajv.addSchema({ ...doc, $id: url }, url);
      for (const [template, ops] of Object.entries<any>(doc.paths ?? {})) {
        for (const [method, op] of Object.entries<any>(ops)) {
          if (method === 'parameters' || !op?.operationId) continue;
          const src = template
            .split('/')
            .map((seg) => (/^\{[^}]+\}$/.test(seg) ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
            .join('/');
          this.operations.push({
            method: method.toUpperCase(),
            template,
            regex: new RegExp(`^${src}$`, 'i'),
            operationId: op.operationId,
            file: f,
            fileUrl: url,
            op,
            pathParams: [...(ops.parameters ?? []), ...(op.parameters ?? [])],
          });
        }
      }
    }
  }

  static load(root = findSpecRoot()): SpecValidator {
    return new SpecValidator(root);
  }

  findOperation(method: string, p: string): SpecOperation | undefined {
    return this.operations.find((o) => o.method === method.toUpperCase() && o.regex.test(p));
  }

  byOperationId(id: string): SpecOperation | undefined {
    return this.operations.find((o) => o.operationId === id);
  }

  private compile(key: string, schema: unknown, base: string): ValidateFunction {
    let v = this.cache.get(key);
    if (!v) {
      v = this.ajv.compile(absolutize(schema, base) as object);
      this.cache.set(key, v);
    }
    return v;
  }

  /** Errors of a response body against the operation's declared response (empty = valid). */
  validateResponse(op: SpecOperation, status: number, body: unknown): string[] {
    const responses = op.op.responses ?? {};
    let decl = responses[String(status)];
    if (!decl) {
      if (status >= 400 && responses.default) decl = responses.default;
      else return [`status ${status} is not declared by ${op.operationId} (declares ${Object.keys(responses).join(', ')})`];
    }
    const hasBody = body !== undefined && body !== null && body !== '';
    if (!decl.schema) return hasBody ? [`${op.operationId} ${status} declares no body but one was sent`] : [];
    if (!hasBody) return [`${op.operationId} ${status} declares a body but none was sent`];
    const key = `${op.fileUrl}|${op.method}|${op.template}|${status >= 400 && !responses[String(status)] ? 'default' : status}`;
    const v = this.compile(key, decl.schema, op.fileUrl);
    const extra = this.undeclaredProperties(decl.schema, op.fileUrl, body, '');
    if (v(body)) return extra;
    return [...(v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}${e.params && 'allowedValues' in e.params ? ` ${JSON.stringify((e.params as any).allowedValues)}` : ''}`), ...extra];
  }

  /** Resolves a $ref (relative to base) to [schema, its file URL]; undefined for open placeholders. */
  private resolve(ref: string, base: string): [any, string] | undefined {
    const abs = new URL(ref, base);
    const fileUrl = `${abs.protocol}//${abs.host}${abs.pathname}`;
    const doc = this.docsByUrl.get(fileUrl);
    if (!doc) return undefined;
    let node: any = doc;
    for (const part of decodeURIComponent(abs.hash.replace(/^#/, '')).split('/').filter(Boolean)) {
      node = node?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    }
    return node === undefined ? undefined : [node, fileUrl];
  }

  /** Properties (and their types) a schema declares, following $ref and allOf. */
  private declared(schema: any, base: string, seen = new Set<any>()): { props: Map<string, [any, string]>; open: boolean; items?: [any, string]; additional?: [any, string] } {
    const out = { props: new Map<string, [any, string]>(), open: false } as ReturnType<SpecValidator['declared']>;
    const visit = (s: any, b: string) => {
      if (!s || typeof s !== 'object' || seen.has(s)) return;
      seen.add(s);
      if (s.$ref) {
        const r = this.resolve(s.$ref, b);
        if (!r) out.open = true;
        else visit(r[0], r[1]);
        return;
      }
      for (const part of s.allOf ?? []) visit(part, b);
      for (const [k, v] of Object.entries<any>(s.properties ?? {})) out.props.set(k, [v, b]);
      if (s.additionalProperties !== undefined && s.additionalProperties !== false) {
        if (s.additionalProperties === true || Object.keys(s.additionalProperties).length === 0) out.open = true;
        else out.additional = [s.additionalProperties, b];
      }
      if (s.items) out.items = [s.items, b];
      if (!s.properties && !s.allOf && !s.items && !s.additionalProperties && (s.type === 'object' || s.type === undefined)) out.open = true;
      if (s['x-ms-discriminator-value'] !== undefined || s.discriminator !== undefined) out.open = true;
    };
    visit(schema, base);
    return out;
  }

  /** Response properties the spec does not declare (the emulator must not invent fields). */
  undeclaredProperties(schema: any, base: string, value: unknown, where: string, depth = 0): string[] {
    if (depth > 30 || value === null || typeof value !== 'object') return [];
    const d = this.declared(schema, base);
    if (Array.isArray(value)) {
      if (!d.items) return [];
      return value.flatMap((v, i) => this.undeclaredProperties(d.items![0], d.items![1], v, `${where}/${i}`, depth + 1));
    }
    const out: string[] = [];
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const p = d.props.get(k);
      if (p) out.push(...this.undeclaredProperties(p[0], p[1], v, `${where}/${k}`, depth + 1));
      else if (d.additional) out.push(...this.undeclaredProperties(d.additional[0], d.additional[1], v, `${where}/${k}`, depth + 1));
      else if (!d.open) out.push(`${where}/${k} is not declared by the spec`);
    }
    return out;
  }

  /** The body parameter schema of an operation (resolving #/parameters/ refs of its file). */
  requestBodySchema(op: SpecOperation): unknown {
    for (const p of op.pathParams) {
      let param = p;
      if (p.$ref) param = this.resolve(p.$ref, op.fileUrl)?.[0];
      if (param?.in === 'body') return param.schema;
    }
    return undefined;
  }

  /** Ajv errors of a request body against the operation's body parameter (undefined: no such op/body). */
  validateRequestBody(method: string, p: string, body: unknown): { operationId: string; errors: Array<{ path: string; keyword: string; message: string; property?: string }> } | undefined {
    const op = this.findOperation(method, p);
    if (!op) return undefined;
    const schema = this.requestBodySchema(op);
    if (!schema) return undefined;
    const v = this.compile(`request|${op.fileUrl}|${op.method}|${op.template}`, schema, op.fileUrl);
    if (v(body)) return { operationId: op.operationId, errors: [] };
    return {
      operationId: op.operationId,
      errors: (v.errors ?? []).map((e) => ({
        path: e.instancePath,
        keyword: e.keyword,
        message: e.message ?? 'is invalid',
        property: e.keyword === 'required' ? String((e.params as { missingProperty?: string }).missingProperty) : undefined,
      })),
    };
  }

  /** A body against a definition of ARM's common types (v3). */
  validateCommon(definition: string, body: unknown): string[] {
    const url = pathToFileURL(path.join(this.root, 'specification/common-types/resource-management/v3/types.json')).href;
    const v = this.compile(`common:${definition}`, { $ref: `${url}#/definitions/${definition}` }, url);
    if (v(body)) return [];
    return (v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
  }

  /** Async operation status documents against ARM's common OperationStatusResult. */
  validateOperationStatus(body: unknown): string[] {
    return this.validateCommon('OperationStatusResult', body);
  }

  validateRecorded(records: RecordLike[]): ValidationReport {
    const report: ValidationReport = { validated: 0, failures: [], unmatched: [], outsideSpecSet: [] };
    for (const r of records) {
      if (r.status === 0) continue; // connection dropped by a fault
      if (OPERATION_RESULT.test(r.path) || /[?&]monitor=true/i.test(r.query ?? '')) {
        // A Location URL's final 200 is the result of the operation that started it.
        const origin = r.operationId ? this.byOperationId(r.operationId) : undefined;
        const hasBody = r.responseBody !== undefined && r.responseBody !== null && r.responseBody !== '';
        if (r.status === 200 && origin && hasBody) {
          const errors = this.validateResponse(origin, 200, r.responseBody);
          report.validated += 1;
          if (errors.length) report.failures.push({ method: r.method, path: r.path, status: r.status, operationId: origin.operationId, errors });
        } else report.outsideSpecSet.push(`${r.method} ${r.path}`);
        continue;
      }
      if (OPERATION_STATUS.test(r.path)) {
        if (r.status === 200) {
          const errors = this.validateOperationStatus(r.responseBody);
          report.validated += 1;
          if (errors.length) report.failures.push({ method: r.method, path: r.path, status: r.status, operationId: 'OperationStatusResult', errors });
        }
        continue;
      }
      const op = this.findOperation(r.method, r.path);
      if (!op && r.servedBy === 'protocol' && r.status >= 400) {
        // ARM's own answers (unknown route, auth, api-version): its common ErrorResponse shape.
        const errors = this.validateCommon('ErrorResponse', r.responseBody);
        report.validated += 1;
        if (errors.length) report.failures.push({ method: r.method, path: r.path, status: r.status, operationId: 'ErrorResponse', errors });
        continue;
      }
      if (!op) {
        if (OUTSIDE_SPEC_SET.some((re) => re.test(r.path))) report.outsideSpecSet.push(`${r.method} ${r.path}`);
        else report.unmatched.push(`${r.method} ${r.path} -> ${r.status}`);
        continue;
      }
      const errors = this.validateResponse(op, r.status, r.responseBody);
      report.validated += 1;
      if (errors.length) report.failures.push({ method: r.method, path: r.path, status: r.status, operationId: op.operationId, errors });
    }
    return report;
  }
}
