import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { Simulator } from '../../simulator';
import { GRAPH_SCOPE, REDIRECT, TestApp, graphFetch, startTenant, token } from './helpers';

function claims(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('simulator: identity platform', function () {
  let sim: Simulator;
  let backup: TestApp;
  let restore: TestApp;
  let tenantId: string;

  before(async () => ({ sim, backup, restore, tenantId } = await startTenant({ users: 30, app: 'backup' })));
  after(() => sim.close());

  it('issues an RS256 app token with tid, appid, roles and idtyp=app through msal-node', async () => {
    const t = await token(sim, tenantId, backup);
    const c = claims(t);
    assert.equal(c.tid, tenantId);
    assert.equal(c.appid, backup.clientId);
    assert.equal(c.idtyp, 'app');
    assert.equal(c.aud, 'https://graph.microsoft.com');
    assert.ok((c.roles as string[]).includes('User.Read.All'));
    assert.ok(!(c.roles as string[]).includes('User.ReadWrite.All'));
    assert.ok(Number(c.exp) > Date.now() / 1000);
    const header = JSON.parse(Buffer.from(t.split('.')[0], 'base64url').toString()) as Record<string, unknown>;
    assert.equal(header.alg, 'RS256');
  });

  it('accepts the tenant by domain name as authority', async () => {
    const domain = sim.control.getTenant(tenantId).defaultDomain;
    const t = await token(sim, domain, backup);
    assert.equal(claims(t).tid, tenantId);
  });

  it('rejects a wrong secret with 401 invalid_client AADSTS7000215', async () => {
    await assert.rejects(
      token(sim, tenantId, { clientId: backup.clientId, secret: 'wrong' }),
      (err: Record<string, unknown>) => {
        assert.equal(err.errorCode, 'invalid_client');
        assert.equal(String(err.errorNo), '7000215');
        assert.equal(err.status, 401);
        return true;
      },
    );
  });

  it('rejects an unknown app with unauthorized_client AADSTS700016', async () => {
    await assert.rejects(
      token(sim, tenantId, { clientId: '11111111-2222-4333-8444-555555555555', secret: 'x' }),
      (err: Record<string, unknown>) => {
        assert.equal(err.errorCode, 'unauthorized_client');
        assert.equal(String(err.errorNo), '700016');
        return true;
      },
    );
  });

  it('rejects an app without service principal in the tenant with 401 AADSTS7000229', async () => {
    await assert.rejects(token(sim, tenantId, restore), (err: Record<string, unknown>) => {
      assert.equal(err.errorCode, 'invalid_client');
      assert.equal(String(err.errorNo), '7000229');
      assert.equal(err.status, 401);
      return true;
    });
  });

  it('accepts a certificate client assertion and rejects one signed by another key', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'simcert-'));
    const key = path.join(dir, 'key.pem');
    const crt = path.join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        crt,
        '-days',
        '2',
        '-subj',
        '/CN=certapp',
      ],
      { stdio: 'ignore' },
    );
    const app = sim.control.registerApp({
      displayName: 'Cert app',
      certificatePem: readFileSync(crt, 'utf8'),
      requiredRoles: ['User.Read.All'],
    });
    sim.control.grantConsent(tenantId, app.clientId);
    const thumb = execFileSync('openssl', ['x509', '-in', crt, '-noout', '-fingerprint', '-sha256'])
      .toString()
      .split('=')[1]
      .trim()
      .replace(/:/g, '');
    const mk = (privateKey: string) =>
      new ConfidentialClientApplication({
        auth: {
          clientId: app.clientId,
          authority: sim.authority(tenantId),
          knownAuthorities: [sim.authorityHost],
          clientCertificate: { thumbprintSha256: thumb, privateKey },
        },
      });
    const ok = await mk(readFileSync(key, 'utf8')).acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] });
    assert.equal(claims(ok?.accessToken as string).appidacr, '2');
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    writeFileSync(path.join(dir, 'other.pem'), other);
    await assert.rejects(
      mk(other).acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] }),
      (err: Record<string, unknown>) => {
        assert.equal(err.errorCode, 'invalid_client');
        assert.equal(String(err.errorNo), '700027');
        return true;
      },
    );
  });

  describe('admin consent', () => {
    const consentUrl = (tid: string, clientId: string, redirect = REDIRECT) =>
      `${sim.baseUrl}/${tid}/v2.0/adminconsent?client_id=${clientId}&scope=${encodeURIComponent(GRAPH_SCOPE)}&redirect_uri=${encodeURIComponent(redirect)}&state=s123`;

    it('shows an Accept/Decline page in page mode, and Accept grants consent', async () => {
      const tid = sim.control.createTenant({ users: 5 }).id;
      const page = await fetch(consentUrl(tid, restore.clientId), { redirect: 'manual' });
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.match(html, /name="decision" value="accept"/);
      assert.match(html, /User\.ReadWrite\.All/);
      const form = new URLSearchParams({
        decision: 'accept',
        client_id: restore.clientId,
        scope: GRAPH_SCOPE,
        redirect_uri: REDIRECT,
        state: 's123',
      });
      const res = await fetch(`${sim.baseUrl}/${tid}/v2.0/adminconsent`, {
        method: 'POST',
        body: form,
        redirect: 'manual',
      });
      assert.equal(res.status, 302);
      const loc = new URL(res.headers.get('location') as string);
      assert.equal(`${loc.origin}${loc.pathname}`, REDIRECT);
      assert.equal(loc.searchParams.get('admin_consent'), 'True');
      assert.equal(loc.searchParams.get('tenant'), tid);
      assert.equal(loc.searchParams.get('state'), 's123');
      assert.equal(loc.searchParams.get('scope'), GRAPH_SCOPE);
      const t = await token(sim, tid, restore);
      assert.ok((claims(t).roles as string[]).includes('User.ReadWrite.All'));
    });

    it('auto-declines with access_denied / AADSTS65004 and no tenant parameter', async () => {
      const tid = sim.control.createTenant({ users: 5, consentMode: 'decline' }).id;
      const res = await fetch(consentUrl(tid, restore.clientId), { redirect: 'manual' });
      assert.equal(res.status, 302);
      const loc = new URL(res.headers.get('location') as string);
      assert.equal(loc.searchParams.get('error'), 'access_denied');
      assert.match(loc.searchParams.get('error_description') as string, /^AADSTS65004/);
      assert.equal(loc.searchParams.get('admin_consent'), 'True');
      assert.equal(loc.searchParams.get('state'), 's123');
      assert.equal(loc.searchParams.has('tenant'), false);
      await assert.rejects(token(sim, tid, restore), (e: Record<string, unknown>) => String(e.errorNo) === '7000229');
    });

    it('auto-accepts in accept mode and refuses an unregistered redirect_uri without redirecting', async () => {
      const tid = sim.control.createTenant({ users: 5, consentMode: 'accept' }).id;
      const bad = await fetch(consentUrl(tid, restore.clientId, 'https://evil.example/cb'), { redirect: 'manual' });
      assert.notEqual(bad.status, 302);
      assert.match(await bad.text(), /AADSTS50011/);
      const res = await fetch(consentUrl(tid, restore.clientId), { redirect: 'manual' });
      assert.equal(res.status, 302);
      assert.equal(new URL(res.headers.get('location') as string).searchParams.get('tenant'), tid);
    });

    it('revoking app-role assignments gives Graph 403; deleting the SP gives AADSTS7000229', async () => {
      const tid = sim.control.createTenant({ users: 5, consentTo: [backup.clientId] }).id;
      const t1 = await token(sim, tid, backup);
      assert.equal((await graphFetch(sim, t1, '/users')).status, 200);
      sim.control.revokeConsent(tid, backup.clientId, 'assignments');
      const denied = await graphFetch(sim, t1, '/users');
      assert.equal(denied.status, 403);
      assert.equal(((await denied.json()) as { error: { code: string } }).error.code, 'Authorization_RequestDenied');
      const t2 = await token(sim, tid, backup);
      assert.equal(claims(t2).roles, undefined, 'token issued without roles claim');
      sim.control.revokeConsent(tid, backup.clientId, 'servicePrincipal');
      await assert.rejects(token(sim, tid, backup), (e: Record<string, unknown>) => String(e.errorNo) === '7000229');
    });
  });

  it('answers Graph 401 InvalidAuthenticationToken for a missing or forged token', async () => {
    const none = await fetch(`${sim.graphRootUrl}/users`);
    assert.equal(none.status, 401);
    assert.equal(((await none.json()) as { error: { code: string } }).error.code, 'InvalidAuthenticationToken');
    const t = await token(sim, tenantId, backup);
    const forged = t.slice(0, t.lastIndexOf('.') + 1) + Buffer.from('nope').toString('base64url');
    assert.equal((await graphFetch(sim, forged, '/users')).status, 401);
    sim.control.advanceClock(3600_000);
    const expired = await graphFetch(sim, t, '/users');
    assert.equal(expired.status, 401);
    assert.match(((await expired.json()) as { error: { message: string } }).error.message, /expired/);
  });
});
