import { readFileSync } from 'node:fs';
import https from 'node:https';
import { ConfidentialClientApplication } from '@azure/msal-node';
import pLimit from 'p-limit';
import { startSimulator, BACKUP_APP_ROLES } from '../simulator';
import { getObjectType, getRelationship } from '../catalog';
import { countUrl, partitionFilter, partitionUrl, planPartitions } from '../activities/backup/partitions';

/**
 * Micro-benchmark of the simulator's partition requests (issue 16): the `startswith` counts and pages a partitioned
 * backup sends for the users and for an all-users group's members, against one seeded tenant, in-process, without
 * latency or throttling, one request at a time. Prints wall time and the process's CPU per request kind; then the same
 * for the requests a backup sends as it plans (activities/backup/partitions.ts, 32 counts at once) and reads (16
 * partitions at once) the users and the all-users group's members.
 * Run: NODE_EXTRA_CA_CERTS=$PWD/.local/certs/ca.pem npx tsx scripts/bench-sim-partitions.ts [--users 100000] [--prefixes 200] [--listed 20]
 */
function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}

const FIRST = "abcdefghijklmnopqrstuvwxyz0123456789'._-!#^~";

async function main(): Promise<void> {
  const users = Number(arg('users', '100000'));
  const prefixCount = Number(arg('prefixes', '200'));
  const listed = Number(arg('listed', '20'));
  const sim = await startSimulator({ port: 0, latencyMs: 0 });
  try {
    sim.control.setThrottling({ enabled: false });
    const app = sim.control.registerApp({ displayName: 'Bench', requiredRoles: BACKUP_APP_ROLES });
    const t0 = performance.now();
    const tenant = sim.control.createTenant({ users, seed: 7, consentTo: [app.clientId] });
    console.log(`seeded ${users} users in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const cca = new ConfidentialClientApplication({
      auth: {
        clientId: app.clientId,
        clientSecret: app.secret,
        authority: sim.authority(tenant.id),
        knownAuthorities: [sim.authorityHost],
      },
    });
    const token = (await cca.acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'] }))!
      .accessToken;
    const agent = new https.Agent({ keepAlive: true, ca: readFileSync(sim.caCertPath) });
    // A kept-alive socket the server closed as it was reused answers ECONNRESET: asked again once on a new one.
    const get = (url: string): Promise<string> =>
      getOnce(url).catch((e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? getOnce(url) : Promise.reject(e)));
    const getOnce = (url: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const req = https.get(
          url.startsWith('https:') ? url : `${sim.graphRootUrl}${url}`,
          { agent, headers: { Authorization: `Bearer ${token}`, ConsistencyLevel: 'eventual' } },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (body += c));
            res.on('end', () =>
              res.statusCode === 200 ? resolve(body) : reject(new Error(`${res.statusCode} ${url}: ${body}`)),
            );
          },
        );
        req.on('error', reject);
      });
    const groups = JSON.parse(await get(`/groups?$filter=displayName eq 'All Users'&$select=id`)) as {
      value: { id: string }[];
    };
    const allUsers = groups.value[0].id;

    // One-character prefixes, then two-character ones, as a plan splitting heavy prefixes would ask.
    const prefixes = [...FIRST, ...[...'abcdefghijklmnopqrstuvwxyz'].flatMap((a) => [...FIRST].map((b) => a + b))];
    const counted = prefixes.slice(0, prefixCount);
    const pagedPrefixes = [...'abcdefghijklmnopqrstuvwxyz'].slice(0, listed);
    const filter = (p: string) =>
      `$filter=${encodeURIComponent(`startswith(userPrincipalName,'${p.replace(/'/g, "''")}')`)}`;

    const measure = async (label: string, urls: string[], follow: boolean) => {
      const cpu = process.cpuUsage();
      const start = performance.now();
      let requests = 0;
      let items = 0;
      for (const first of urls) {
        let url: string | undefined = first;
        while (url) {
          const body = await get(url);
          requests++;
          if (!follow) {
            items += Number(body);
            break;
          }
          const page = JSON.parse(body) as { value: unknown[]; '@odata.nextLink'?: string };
          items += page.value.length;
          url = page['@odata.nextLink'];
        }
      }
      const ms = performance.now() - start;
      const used = process.cpuUsage(cpu);
      console.log(
        `${label.padEnd(44)} ${String(requests).padStart(5)} requests ${String(items).padStart(7)} items ` +
          `${(ms / 1000).toFixed(2).padStart(7)} s wall ${((used.user + used.system) / 1e6).toFixed(2).padStart(7)} s CPU ` +
          `${(ms / requests).toFixed(2).padStart(7)} ms/request`,
      );
    };
    const select = '$select=id,userPrincipalName&$top=999&$count=true';
    await measure(
      'user counts (/users/$count?$filter)',
      counted.map((p) => `/users/$count?${filter(p)}`),
      false,
    );
    await measure(
      'user partition pages (/users?$filter)',
      pagedPrefixes.map((p) => `/users?${select}&${filter(p)}`),
      true,
    );
    const members = `/groups/${allUsers}/members/microsoft.graph.user`;
    await measure(
      'member counts (…/microsoft.graph.user/$count)',
      counted.map((p) => `${members}/$count?${filter(p)}`),
      false,
    );
    await measure(
      'member partition pages (…/microsoft.graph.user)',
      pagedPrefixes.map((p) => `${members}?${select}&${filter(p)}`),
      true,
    );

    // As the backup does it: plan from counts, then read every partition (activities/backup/partitions.ts,
    // relationship-partitions.ts), with their concurrency.
    const planned = async (label: string, count: (p?: string) => string, list: (p: string) => string) => {
      const cpu = process.cpuUsage();
      const start = performance.now();
      let requests = 0;
      const counted = async (url: string) => (requests++, Number(await get(url)));
      const plan = (await planPartitions(getObjectType('users').partitionBy, (p) => counted(count(p))))!;
      const lanes = pLimit(16);
      const read = await Promise.all(
        plan.prefixes.map((p) =>
          lanes(async () => {
            let n = 0;
            for (let url: string | undefined = list(p); url;) {
              const page = JSON.parse(await get(url)) as { value: unknown[]; '@odata.nextLink'?: string };
              requests++;
              n += page.value.length;
              url = page['@odata.nextLink'];
            }
            return n;
          }),
        ),
      );
      const ms = performance.now() - start;
      const used = process.cpuUsage(cpu);
      console.log(
        `${label}: ${plan.prefixes.length} partitions, ${read.reduce((a, b) => a + b, 0)} of ${plan.total} read, ` +
          `${requests} requests in ${(ms / 1000).toFixed(2)} s wall, ${((used.user + used.system) / 1e6).toFixed(2)} s CPU`,
      );
    };
    const usersSpec = getObjectType('users');
    await planned(
      'backup plan + read of users',
      (p) => countUrl(usersSpec, sim.graphRootUrl, p),
      (p) => partitionUrl(usersSpec, p, sim.graphRootUrl),
    );
    const rel = getRelationship('groups', 'members');
    const by = rel.partitionBy!.by;
    const base = `${sim.graphRootUrl}/groups/${allUsers}/members/microsoft.graph.user`;
    await planned(
      'backup plan + read of the all-users group',
      (p) => (p === undefined ? `${base}/$count` : `${base}/$count?$filter=${partitionFilter(by, p)}`),
      (p) => `${base}?$select=${rel.select.join(',')}&$top=999&$count=true&$filter=${partitionFilter(by, p)}`,
    );
    agent.destroy();
  } finally {
    await sim.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
