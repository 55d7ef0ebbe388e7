// The end-to-end test stack: Azurite and the app host on free loopback ports (local/cloud.ts), with
// helpers to drive it through the real `openstack` CLI (.venv, made by scripts/ensure-venv.sh) and
// through plain HTTP.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { startLocalCloud, type LocalCloud, type LocalCloudOptions } from '../../local/cloud';
import { REPO_ROOT } from './paths';

export interface Creds {
  username: string;
  password: string;
  project?: string;
}

/** An application credential the CLI authenticates with (OS_AUTH_TYPE=v3applicationcredential). */
export interface AppCredCreds {
  applicationCredentialId: string;
  applicationCredentialSecret: string;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface HttpResult {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
}

const OPENSTACK = path.join(REPO_ROOT, '.venv/bin/openstack');

export class Stack {
  constructor(public readonly cloud: LocalCloud) {}

  get url(): string {
    return this.cloud.url;
  }

  get admin(): Creds {
    return this.cloud.admin;
  }

  /**
   * Runs `openstack ARGS` as `who` (the bootstrap admin by default), by password or, for an
   * application credential, with only its id and secret (a scope would be refused). Never throws on
   * exit codes.
   */
  osc(args: string[], who: Creds | AppCredCreds = this.admin): Promise<CliResult> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OS_') && v !== undefined) env[k] = v;
    Object.assign(env, {
      OS_AUTH_URL: `${this.url}/identity`,
      OS_IDENTITY_API_VERSION: '3',
      OS_INTERFACE: 'public',
      OS_REGION_NAME: 'RegionOne',
    });
    if ('applicationCredentialId' in who) {
      Object.assign(env, {
        OS_AUTH_TYPE: 'v3applicationcredential',
        OS_APPLICATION_CREDENTIAL_ID: who.applicationCredentialId,
        OS_APPLICATION_CREDENTIAL_SECRET: who.applicationCredentialSecret,
      });
    } else {
      Object.assign(env, {
        OS_USERNAME: who.username,
        OS_PASSWORD: who.password,
        OS_USER_DOMAIN_NAME: 'Default',
        ...(who.project ? { OS_PROJECT_NAME: who.project, OS_PROJECT_DOMAIN_NAME: 'Default' } : {}),
      });
    }
    return new Promise((resolve) => {
      execFile(OPENSTACK, args, { env, timeout: 120000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** `openstack ARGS -f json`, parsed; throws with the CLI's stderr when it fails. */
  async oscJson<T = any>(args: string[], who?: Creds | AppCredCreds): Promise<T> {
    // eslint-disable-line @typescript-eslint/no-explicit-any
    const r = await this.osc([...args, '-f', 'json'], who);
    if (r.code !== 0) throw new Error(`openstack ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  }

  /** `openstack ARGS` that must succeed; returns stdout. */
  async oscOk(args: string[], who?: Creds | AppCredCreds): Promise<string> {
    const r = await this.osc(args, who);
    if (r.code !== 0) throw new Error(`openstack ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  }

  async http(method: string, p: string, opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<HttpResult> {
    const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
    if (opts.token) headers['X-Auth-Token'] = opts.token;
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
      headers['Content-Type'] ??= 'application/json';
    }
    const res = await fetch(this.url + p, { method, headers, body });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, headers: res.headers, body: parsed, text };
  }

  /** A project-scoped token for `who` (by password), straight from the API. */
  async token(who: Creds = this.admin): Promise<string> {
    const scope = who.project ? { project: { name: who.project, domain: { id: 'default' } } } : undefined;
    const r = await this.http('POST', '/identity/v3/auth/tokens', {
      body: { auth: { identity: { methods: ['password'], password: { user: { name: who.username, domain: { id: 'default' }, password: who.password } } }, ...(scope ? { scope } : {}) } },
    });
    if (r.status !== 201) throw new Error(`token issue failed: ${r.status} ${r.text}`);
    return r.headers.get('x-subject-token')!;
  }

  /** Creates a project and a user holding `role` on it, through the admin API. */
  async makeProjectUser(project: string, username: string, role = 'member'): Promise<Creds & { projectId: string; userId: string }> {
    const admin = await this.token();
    const p = await this.http('POST', '/identity/v3/projects', { token: admin, body: { project: { name: project } } });
    if (p.status !== 201) throw new Error(`project create: ${p.status} ${p.text}`);
    const password = `Pw-${username}-1a`;
    const u = await this.http('POST', '/identity/v3/users', { token: admin, body: { user: { name: username, password, default_project_id: p.body.project.id } } });
    if (u.status !== 201) throw new Error(`user create: ${u.status} ${u.text}`);
    const roles = await this.http('GET', `/identity/v3/roles?name=${role}`, { token: admin });
    const roleId = roles.body.roles[0].id;
    const g = await this.http('PUT', `/identity/v3/projects/${p.body.project.id}/users/${u.body.user.id}/roles/${roleId}`, { token: admin });
    if (g.status !== 204) throw new Error(`grant: ${g.status} ${g.text}`);
    return { username, password, project, projectId: p.body.project.id, userId: u.body.user.id };
  }

  stop(): Promise<void> {
    return this.cloud.stop();
  }
}

export async function startStack(opts: LocalCloudOptions = {}): Promise<Stack> {
  return new Stack(await startLocalCloud({ adminPassword: 'Admin-pass-1', ...opts }));
}
