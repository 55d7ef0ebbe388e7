// os-getConsoleOutput (nova/api/openstack/compute/console_output.py; compute/manager.py
// get_console_output and _tail_log) on Azure: the serial log that boot diagnostics keep (every server is
// created with boot diagnostics on). retrieveBootDiagnosticsData hands out a short-lived read SAS URI
// to the log blob; the log is read from it and cut as Nova cuts it.
import type { RequestContext } from '../../../http/router';
import { json } from '../../../http/respond';
import { conflict, notFound } from '../../../http/errors';
import { log } from '../../../log';
import { visibleServer } from '../model';
import { azureFailure } from '../../../azure/errors';
import { registerServerAction } from './registry';

const consoleOutputSchema = {
  type: 'object',
  properties: {
    'os-getConsoleOutput': {
      type: 'object',
      properties: { length: { type: ['integer', 'string', 'null'], pattern: '^-?[0-9]+$', minimum: -1 } },
      additionalProperties: false,
    },
  },
  required: ['os-getConsoleOutput'],
  additionalProperties: false,
};

const notAvailable = () => notFound('Guest does not have a console available.');

/** Nova's _tail_log: the last `length` lines ('' for 0; Python's [-n:] slice, so -1 drops the first line). */
export function tailLog(text: string, length: number | string | null | undefined): string {
  if (length === null || length === undefined) return text;
  const n = Number.parseInt(String(length), 10);
  if (!n) return '';
  return text.split('\n').slice(-n).join('\n');
}

/** As Nova returns it: bytes decoded as ASCII with replacement, then control characters removed. */
export function novaConsoleText(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) out += b < 0x80 ? String.fromCharCode(b) : '\ufffd';
  // eslint-disable-next-line no-control-regex
  return out.replace(/[\x00-\x08\x0B-\x1F]/g, '');
}

async function getConsoleOutput(ctx: RequestContext, args: unknown) {
  const length = (args as { length?: number | string | null }).length;
  const srv = (await visibleServer(ctx)).value;
  // check_instance_host: a server that never reached Azure has no console yet.
  if (!srv.host) throw conflict(`Instance ${srv.id} is not ready`);
  let uri: string | undefined;
  try {
    uri = await ctx.services.azure.vms.serialLogUri(srv.azure.vm);
  } catch (e) {
    const f = azureFailure(e);
    if (f.kind === 'notFound' || f.status === 409) throw notAvailable();
    throw e;
  }
  if (!uri) throw notAvailable();
  const res = await fetch(uri);
  // No boot has written the log yet: an empty console, as a fresh libvirt guest has.
  if (res.status === 404) return json({ output: '' });
  if (!res.ok) {
    log.warn('serial log read failed', { server: srv.id, status: res.status, requestId: ctx.requestId });
    throw notAvailable();
  }
  // Nova tails the bytes, then decodes; ASCII decoding keeps '\n' where it was, so the order is the same.
  const text = novaConsoleText(Buffer.from(await res.arrayBuffer()));
  return json({ output: tailLog(text, length) });
}

registerServerAction({ name: 'os-getConsoleOutput', policy: 'os_compute_api:os-console-output', schema: consoleOutputSchema, handler: getConsoleOutput });
