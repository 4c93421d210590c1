import { GraphError } from '@microsoft/microsoft-graph-client';
import { getObjectType } from '../../catalog';
import type { TenantGraph } from '../graph/tenant-graph';

/** Graph calls a restore makes, on top of the throttled client (429s and 5xx are retried underneath). */

export function isStatus(err: unknown, status: number): boolean {
  return err instanceof GraphError && err.statusCode === status;
}

/**
 * "Already exists" answers of reference adds and creates: a member added twice
 * (https://learn.microsoft.com/en-us/graph/api/group-post-members?view=graph-rest-1.0), an app role assigned twice
 * ("Permission being assigned already exists", https://github.com/microsoftgraph/microsoft-graph-docs-contrib/issues/4628).
 */
export function isAlreadyExists(err: unknown): boolean {
  return (
    err instanceof GraphError &&
    (err.statusCode === 400 || err.statusCode === 409) &&
    /already exist|already in use/i.test(err.message)
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Entra is eventually consistent: an object created a moment ago may answer 404 to the next request, and a service
 * principal for a just-created app 400 NoBackingApplicationObject. Microsoft's advice is to back off and retry
 * (https://devblogs.microsoft.com/identity/designing-for-eventual-consistency-for-microsoft-entra/).
 */
export async function withReplicationRetry<T>(run: () => Promise<T>, attempts = 6, firstDelayMs = 250): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await run();
    } catch (err) {
      const replication =
        isStatus(err, 404) ||
        (err instanceof GraphError &&
          err.statusCode === 400 &&
          /does not reference a valid application/i.test(err.message));
      if (!replication || i + 1 >= attempts) throw err;
      await sleep(firstDelayMs * 2 ** i);
    }
  }
}

export class RestoreGraph {
  /** POST, PATCH and DELETE requests sent (restoreWriteRequests). */
  writes = 0;

  constructor(
    readonly graph: TenantGraph,
    private readonly baseUrl: string,
  ) {}

  url(path: string): string {
    return this.baseUrl + path;
  }

  async get<T = Record<string, unknown>>(path: string): Promise<T> {
    return (await this.graph.client.api(this.url(path)).get()) as T;
  }

  /** The object, or null when Graph answers 404. */
  async getOrNull(path: string): Promise<Record<string, unknown> | null> {
    try {
      return await this.get(path);
    } catch (err) {
      if (isStatus(err, 404)) return null;
      throw err;
    }
  }

  readAll<T = Record<string, unknown>>(path: string): Promise<T[]> {
    return this.graph.readAll<T>(this.url(path));
  }

  async post<T = Record<string, unknown>>(path: string, body: unknown): Promise<T> {
    this.writes++;
    return (await this.graph.client.api(this.url(path)).post(body)) as T;
  }

  async patch(path: string, body: unknown): Promise<void> {
    this.writes++;
    await this.graph.client.api(this.url(path)).patch(body);
  }

  async delete(path: string): Promise<void> {
    this.writes++;
    await this.graph.client.api(this.url(path)).delete();
  }

  /** A live object of a type by id, with the properties a restore compares; null when it does not exist. */
  readLive(type: string, id: string): Promise<Record<string, unknown> | null> {
    const spec = getObjectType(type);
    const select = spec.select ? `?$select=${spec.select.join(',')}` : '';
    return this.getOrNull(`${spec.path}/${encodeURIComponent(id)}${select}`);
  }

  /** Ids in a relationship of a live object. */
  async relationshipIds(type: string, relationship: string, id: string): Promise<string[]> {
    const rel = getObjectType(type).relationships.find((r) => r.key === relationship);
    if (!rel) return [];
    const items = await this.readAll<{ id: string }>(`${rel.path.replace('{id}', encodeURIComponent(id))}?$select=id`);
    return items.map((i) => i.id).sort();
  }

  /** App-role assignments granted on a resource service principal's roles. */
  appRoleAssignedTo(resourceId: string): Promise<{ principalId: string; resourceId: string; appRoleId: string }[]> {
    return this.readAll(`/servicePrincipals/${encodeURIComponent(resourceId)}/appRoleAssignedTo`);
  }

  /** Ids of live objects of a type whose `property` equals `value` ($filter eq, https://learn.microsoft.com/en-us/graph/filter-query-parameter). */
  async idsWhere(type: string, property: string, value: string): Promise<Record<string, unknown>[]> {
    const spec = getObjectType(type);
    const literal = value.replace(/'/g, "''");
    return this.readAll(`${spec.path}?$filter=${property} eq '${encodeURIComponent(literal)}'`);
  }
}
