/** The x-ms-examples of the spec operations, as request/response pairs to replay. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SpecOperation, SpecValidator } from './validator';

export interface SpecExample {
  title: string;
  file: string;
  operation: SpecOperation;
  parameters: Record<string, any>;
  responses: Record<string, { body?: unknown; headers?: Record<string, string> }>;
}

export interface ExampleSet {
  examples: SpecExample[];
  /** Example files referenced by the specs but not in the reference set. */
  missing: string[];
}

export function loadExamples(v: SpecValidator): ExampleSet {
  const examples: SpecExample[] = [];
  const missing: string[] = [];
  for (const op of v.operations) {
    for (const [title, ref] of Object.entries<any>(op.op['x-ms-examples'] ?? {})) {
      const file = path.resolve(path.dirname(op.file), ref.$ref);
      if (!fs.existsSync(file)) {
        missing.push(path.relative(v.root, file));
        continue;
      }
      const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
      examples.push({ title, file, operation: op, parameters: doc.parameters ?? {}, responses: doc.responses ?? {} });
    }
  }
  return { examples, missing };
}

/** The request path of an example (path parameters substituted, not yet api-version). */
export function examplePath(ex: SpecExample, overrides: Record<string, string> = {}): string {
  return ex.operation.template.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(overrides[name] ?? String(ex.parameters[name])));
}

/** The body parameter of an example request, if the operation takes one. */
export function exampleBody(ex: SpecExample): unknown {
  const bodyParam = ex.operation.pathParams.find((p: any) => p.in === 'body') ?? resolveBodyParam(ex);
  return bodyParam ? ex.parameters[bodyParam.name] : undefined;
}

function resolveBodyParam(ex: SpecExample): any {
  // parameters given by $ref to the file's global parameters
  const doc = JSON.parse(fs.readFileSync(ex.operation.file, 'utf8'));
  for (const p of ex.operation.pathParams) {
    if (p.$ref && p.$ref.startsWith('#/parameters/')) {
      const def = doc.parameters?.[p.$ref.slice('#/parameters/'.length)];
      if (def?.in === 'body') return def;
    }
  }
  return undefined;
}
