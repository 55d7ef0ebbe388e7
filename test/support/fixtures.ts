// Fixtures the end-to-end tests share: the users they act as, with their tokens; the catalog's image
// and networks they boot on; and a barrier that sends racing requests together.
import type { Creds, Stack } from './stack';
import { waitFor } from './wait';

/** A user holding a role on a project of its own (Stack.makeProjectUser). */
export type ProjectUser = Creds & { projectId: string; userId: string };

/** Alice and Bob, each a member of a project of their own, with project-scoped tokens, and the admin's. */
export interface Cast {
  alice: ProjectUser;
  bob: ProjectUser;
  tAlice: string;
  tBob: string;
  tAdmin: string;
}

/** Makes alice then bob (`[project, username]` each), then issues their tokens and the admin's together. */
export async function aliceAndBob(stack: Stack, alice: [project: string, username: string], bob: [project: string, username: string]): Promise<Cast> {
  const a = await stack.makeProjectUser(...alice);
  const b = await stack.makeProjectUser(...bob);
  const [tAlice, tBob, tAdmin] = await Promise.all([stack.token(a), stack.token(b), stack.token()]);
  return { alice: a, bob: b, tAlice, tBob, tAdmin };
}

/** The id of the image named `name` (by default the catalog's Ubuntu 22.04), as `token` lists it. */
export async function imageId(stack: Stack, token: string, name = 'ubuntu-22.04'): Promise<string> {
  return (await stack.http('GET', `/image/v2/images?name=${name}`, { token })).body.images[0].id;
}

/** The id of the network named `name` (by default the catalog's shared `private`), as `token` lists it. */
export async function networkId(stack: Stack, token: string, name = 'private'): Promise<string> {
  return (await stack.http('GET', `/network/v2.0/networks?name=${name}`, { token })).body.networks[0].id;
}

/** `n` requests, each made by `send(i)`, held at a barrier and released together; their answers. */
export async function race<T>(n: number, send: (i: number) => Promise<T>): Promise<T[]> {
  let release!: () => void;
  const barrier = new Promise<void>((r) => (release = r));
  const racers = Array.from({ length: n }, async (_, i) => {
    await barrier;
    return send(i);
  });
  release();
  return Promise.all(racers);
}

/** How many items a listing (an Azure SDK's `list`, say) yields. */
export async function countAll(items: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of items) n++;
  return n;
}

/** Whether an Azure SDK call answers 404 (true), rather than the resource (or any other error: false). */
export async function absentOnAzure(call: Promise<unknown>): Promise<boolean> {
  try {
    await call;
    return false;
  } catch (e) {
    return (e as { statusCode?: number }).statusCode === 404;
  }
}

/** Waits until `show(id)` is in `status` with no task under way (`OS-EXT-STS:task_state` null); that view. */
export function settledServer<V extends { status: string }>(show: (id: string) => Promise<V>, id: string, status: string): Promise<V> {
  return waitFor(`server ${id} ${status}`, async () => {
    const v = await show(id);
    return v.status === status && (v as Record<string, unknown>)['OS-EXT-STS:task_state'] === null ? v : undefined;
  });
}

/** One user, a member of a project of its own, with its project-scoped token and the admin's. */
export async function oneUser(stack: Stack, project: string, username: string): Promise<{ user: ProjectUser; token: string; tAdmin: string }> {
  const user = await stack.makeProjectUser(project, username);
  const [token, tAdmin] = await Promise.all([stack.token(user), stack.token()]);
  return { user, token, tAdmin };
}

/** The id of the project a (project-scoped) token is scoped to: the admin's, for the admin's token. */
export async function tokenProjectId(stack: Stack, token: string): Promise<string> {
  return (await stack.http('GET', '/identity/v3/auth/tokens', { token, headers: { 'X-Subject-Token': token } })).body.token.project.id;
}
