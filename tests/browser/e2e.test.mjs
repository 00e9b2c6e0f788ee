// End-to-end tests of the Commlog web app in headless Chromium (Debian's /usr/bin/chromium),
// with axe-core accessibility checks of every page visited, at a desktop and a phone size.
//
// The test starts its own `commlog serve` on a fresh SQLite database in a temp dir (no demo
// seed: a company is created first), signs in through the real login form and drives the
// pages as a person would. Environment:
//   COMMLOG_BIN   the binary (default: $CARGO_TARGET_DIR/debug/commlog, or ~/.cache/commlog-target/debug/commlog)
//   CHROMIUM      the browser (default: /usr/bin/chromium); no browser is ever downloaded
//   SCREENSHOTS=1 also write docs/screenshots/<page>-<desktop|phone>.png
//   KEEP_DATA=1   keep the temp dir (database and server log) after the run
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const HERE = path.dirname(fileURLToPath(import.meta.url));
const SHOTS_DIR = path.resolve(HERE, '../../docs/screenshots');
const SCREENSHOTS = process.env.SCREENSHOTS === '1';

const TARGET = process.env.CARGO_TARGET_DIR || path.join(os.homedir(), '.cache/commlog-target');
const BIN = process.env.COMMLOG_BIN || path.join(TARGET, 'debug/commlog');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
];

const ADMIN = { email: 'admin@acme.example', password: 'a long password 1' };
const REP = { email: 'rep@acme.example', password: 'a long password 2' };
const VIEWPORTS = {
  desktop: { viewport: { width: 1280, height: 800 } },
  phone: { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 },
};
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

let dir; let server; let serverLog; let base; let browser;
// Every axe run, console error and CSP violation, reported by the last tests of each size.
const audits = []; // { size, label, url, violations }

// ------------------------------------------------------------------ the server

function commlog(args, env) {
  const out = execFileSync(BIN, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = out.trim().split('\n').filter((l) => l.startsWith('{'));
  return lines.length ? JSON.parse(lines[lines.length - 1]) : {};
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

async function waitFor(url, ms) {
  const until = Date.now() + ms;
  for (;;) {
    try { const r = await fetch(url); if (r.ok) { return; } } catch { /* not up yet */ }
    if (server.exitCode !== null) { throw new Error(`commlog serve exited (${server.exitCode}):\n${tail(serverLog)}`); }
    if (Date.now() > until) { throw new Error(`${url} not ready within ${ms} ms:\n${tail(serverLog)}`); }
    await new Promise((r) => setTimeout(r, 200));
  }
}

function tail(file, n = 40) {
  try { return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-n).join('\n'); } catch { return ''; }
}

before(async () => {
  assert.ok(fs.existsSync(BIN), `no commlog binary at ${BIN}: run cargo build -p commlog-server (or set COMMLOG_BIN)`);
  assert.ok(fs.existsSync(CHROMIUM), `no browser at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM)`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'commlog-browser-'));
  const env = {
    ...process.env,
    COMMLOG_DATABASE_URL: `sqlite://${dir}/commlog.db`,
    COMMLOG_DATA_DIR: dir,
    COMMLOG_RATE_LIMIT_PER_MINUTE: '0',
    COMMLOG_LOGIN_RATE_LIMIT_PER_MINUTE: '0',
    RUST_LOG: process.env.RUST_LOG || 'warn',
  };
  commlog(['migrate'], env);
  // A company first, so that `serve` does not add its demo company.
  const { company_id: company } = commlog(['company', 'create', '--name', 'Acme',
    '--admin-email', ADMIN.email, '--admin-password', ADMIN.password], env);
  assert.ok(company, 'company create printed no company_id');
  commlog(['user', 'create', '--company-id', company, '--email', REP.email,
    '--password', REP.password, '--role', 'sales_rep'], env);
  commlog(['seed', '--company-id', company, '--rows', '60'], env);

  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  serverLog = path.join(dir, 'serve.log');
  const log = fs.openSync(serverLog, 'a');
  server = spawn(BIN, ['serve', '--bind', `127.0.0.1:${port}`], { env, stdio: ['ignore', log, log] });
  await waitFor(`${base}/livez`, 60_000);

  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  if (SCREENSHOTS) { fs.mkdirSync(SHOTS_DIR, { recursive: true }); }
});

after(async () => {
  if (browser) { await browser.close(); }
  if (server && server.exitCode === null) {
    const gone = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
    if (server.exitCode === null) { server.kill('SIGKILL'); }
  }
  if (dir && process.env.KEEP_DATA !== '1') { fs.rmSync(dir, { recursive: true, force: true }); }
  else if (dir) { console.log(`# data and server log kept in ${dir}`); }
});

// ------------------------------------------------------------------ helpers

/** A browser context of one size; `errors` gathers console errors and uncaught exceptions. */
async function newContext(size, { bypassCSP = true } = {}) {
  // bypassCSP: the pages' CSP (`script-src 'self'`) forbids inline scripts, and Playwright's
  // addScriptTag({content}) injects axe-core as one; bypassing it is needed for axe only. A
  // separate context without it checks that the pages themselves break no CSP rule.
  const context = await browser.newContext({ ...VIEWPORTS[size], baseURL: base, bypassCSP });
  context.setDefaultTimeout(20_000);
  context.setDefaultNavigationTimeout(30_000);
  const errors = [];
  context.on('console', (m) => {
    if (m.type() !== 'error') { return; }
    const at = m.location().url || m.page()?.url() || '';
    // Chromium asks every new profile for /favicon.ico, which the app does not serve (404):
    // browser noise, not the page's doing; reported separately.
    if (/\/favicon\.ico$/.test(at)) { return; }
    errors.push(`${m.page()?.url()}: ${m.text()} (${at})`);
  });
  context.on('weberror', (e) => errors.push(`uncaught: ${e.error().message}`));
  return { context, errors };
}

async function signIn(page, who = ADMIN) {
  await page.goto('/login');
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await Promise.all([page.waitForURL((u) => u.pathname === '/'), page.getByRole('button', { name: 'Sign in' }).click()]);
}

/** Runs axe on the page as it is now and records the result under `label`. */
async function audit(size, page, label) {
  // With bypassCSP the inline <script> that addScriptTag adds is allowed (see newContext).
  await page.addScriptTag({ content: AXE_SOURCE });
  const result = await page.evaluate((tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags } }), AXE_TAGS);
  const violations = result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({ target: n.target.join(' '), html: n.html.slice(0, 200), summary: n.failureSummary })),
  }));
  // WCAG 1.4.10 Reflow: at the phone size nothing may stick out of the screen (which makes
  // the page scroll sideways) or out of its card (which then cuts or overlaps the text).
  const overflow = size !== 'phone' ? [] : await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const out = (el) => {
      if (el.closest('thead, .visually-hidden')) { return null; } // moved off-screen on purpose
      // Data tables may scroll sideways inside their own keyboard-reachable region (1.4.10
      // exempts two-dimensional content); the region itself must still fit.
      const region = el.parentElement && el.parentElement.closest('.scroll');
      if (region && region !== el) { return null; }
      const right = el.getBoundingClientRect().right;
      const card = el.parentElement.closest('.card, .narrow, .quick, .filters');
      if (right > width + 1) { return `${Math.round(right)} px, past the screen's ${width} px`; }
      if (card && right > card.getBoundingClientRect().right + 1) {
        return `${Math.round(right)} px, past its ${card.tagName.toLowerCase()}.${card.className}'s ${Math.round(card.getBoundingClientRect().right)} px`;
      }
      return null;
    };
    const found = [...document.querySelectorAll('main *')].filter((el) => out(el) !== null);
    return found
      .filter((el) => !found.includes(el.parentElement)) // the outermost ones
      .slice(0, 5)
      .map((el) => `${el.outerHTML.slice(0, 100)} (right edge at ${out(el)})`);
  });
  audits.push({ size, label, url: new URL(page.url()).pathname, violations, overflow });
  return violations;
}

async function screenshot(size, page, name) {
  if (!SCREENSHOTS) { return; }
  await page.screenshot({ path: path.join(SHOTS_DIR, `${name}-${size}.png`), fullPage: false });
}

function noErrors(errors, what) {
  const found = errors.splice(0);
  assert.deepEqual(found, [], `console errors ${what}:\n${found.join('\n')}`);
}

async function submit(page, button) {
  await Promise.all([page.waitForEvent('load'), button.click()]);
}

const notice = (page) => page.locator('main p.notice');

/** Fills and saves the quick-log form; returns the detail page's URL. */
async function quickLog(page, { subject, content }) {
  await page.goto('/log/new');
  await page.getByRole('radio', { name: 'Call' }).check();
  await page.getByRole('radio', { name: 'Inbound' }).check();
  await page.locator('#channel').selectOption('phone');
  await page.locator('#minutes').fill('7');
  await page.locator('#subject').fill(subject);
  await page.locator('#content').fill(content);
  await submit(page, page.getByRole('button', { name: 'Save' }));
  assert.match(new URL(page.url()).pathname, /^\/logs\/[0-9a-f-]{36}$/, `after Save: ${page.url()}\n${await page.locator('main').innerText()}`);
  assert.equal(await page.locator('h1').innerText(), subject);
  return page.url();
}

// ------------------------------------------------------------------ the scenarios, per size

for (const size of Object.keys(VIEWPORTS)) {
  describe(`${size} (${VIEWPORTS[size].viewport.width}×${VIEWPORTS[size].viewport.height})`, () => {
    const word = `zephyr${size}${Date.now().toString(36)}`; // one search word per run and size
    const subject = `Renewal call ${word}`;
    let ctx; let page; let detailUrl;

    before(async () => { ctx = await newContext(size); page = await ctx.context.newPage(); });
    after(async () => { if (ctx) { await ctx.context.close(); } });

    test('1. sign in as admin, from /login to the home page', async () => {
      await page.goto('/');
      assert.equal(new URL(page.url()).pathname, '/login', 'signed out: / leads to /login');
      await audit(size, page, 'login');
      // A wrong password: the form says so (as an alert) and keeps the email.
      await page.getByLabel('Email').fill(ADMIN.email);
      await page.getByLabel('Password').fill('not the password');
      await submit(page, page.getByRole('button', { name: 'Sign in' }));
      await assert.doesNotReject(page.getByRole('alert').waitFor());
      assert.equal(await page.getByLabel('Email').inputValue(), ADMIN.email);
      await audit(size, page, 'login (error)');
      ctx.errors.splice(0); // the 401 of the refused sign-in is logged as a console error
      await signIn(page);
      await assert.doesNotReject(page.getByRole('heading', { level: 1, name: /Good to see you/ }).waitFor());
      await assert.doesNotReject(page.getByRole('button', { name: 'Sign out' }).waitFor());
      await audit(size, page, 'home');
      await screenshot(size, page, 'home');
      noErrors(ctx.errors, 'on login and home');
    });

    test('2. quick-log a call (with the timer) and land on its detail page', async () => {
      await page.goto('/log/new');
      await audit(size, page, 'quick log');
      await screenshot(size, page, 'quick-log');
      // Too short notes: the form comes back with the problem (as an alert) and the input kept.
      await page.locator('#subject').fill(subject);
      await page.locator('#content').fill('short');
      await submit(page, page.getByRole('button', { name: 'Save' }));
      assert.equal(new URL(page.url()).pathname, '/log/new');
      await assert.doesNotReject(page.getByRole('alert').filter({ hasText: /at least 10 characters/ }).waitFor());
      assert.equal(await page.locator('#subject').inputValue(), subject, 'the subject is kept');
      await audit(size, page, 'quick log (errors)');
      ctx.errors.splice(0); // the 422 of the refused form is logged as a console error
      assert.equal(await page.getByRole('radio', { name: 'Call' }).isChecked(), true, 'a call by default');
      assert.notEqual(await page.locator('#start').inputValue(), '', 'Started is filled in');
      const timer = page.locator('#timer');
      await timer.click();
      await assert.doesNotReject(page.locator('#timer[aria-pressed="true"]').waitFor());
      assert.equal(await timer.innerText(), 'Stop timer');
      await page.waitForFunction(() => /^0:0[1-9]$/.test(document.getElementById('timer-display').textContent));
      await timer.click();
      assert.equal(await timer.getAttribute('aria-pressed'), 'false');
      assert.equal(await timer.innerText(), 'Start timer');
      assert.equal(await page.locator('#minutes').inputValue(), '1', 'the timer fills the minutes');
      await page.waitForFunction(() => /^Timer stopped at 0:0\d$/.test(document.getElementById('live').textContent));

      await page.getByRole('radio', { name: 'Outbound' }).check();
      await page.locator('#channel').selectOption('phone');
      await page.locator('#subject').fill(subject);
      await page.locator('#content').fill(`Talked about the renewal; ${word} wants a quote.`);
      const due = new Date(Date.now() + 3 * 86400_000).toISOString().slice(0, 10);
      await page.locator('#follow_up').fill(due);
      await submit(page, page.getByRole('button', { name: 'Save' }));
      assert.match(new URL(page.url()).pathname, /^\/logs\/[0-9a-f-]{36}$/, await page.locator('main').innerText());
      assert.equal(await page.locator('h1').innerText(), subject);
      assert.equal(await notice(page).innerText(), 'Logged.');
      detailUrl = page.url();
      await audit(size, page, 'detail (after quick log)');
      noErrors(ctx.errors, 'on the quick log');
    });

    test('3. filter and search on /calls', async () => {
      await page.goto('/calls');
      await audit(size, page, 'calls');
      await screenshot(size, page, 'calls');
      const countBefore = await page.locator('#count').innerText();
      await page.locator('#f-status').selectOption({ label: 'Logged' });
      await page.getByRole('searchbox', { name: 'Search' }).fill(word);
      await submit(page, page.getByRole('button', { name: 'Apply', exact: true }));
      const url = new URL(page.url());
      assert.equal(url.searchParams.get('q'), word);
      assert.equal(url.searchParams.get('status'), 'logged');
      await assert.doesNotReject(page.locator('#rows').getByRole('link', { name: subject }).waitFor());
      assert.equal(await page.locator('#rows tr').count(), 1, 'only the call that has the word');
      const countAfter = await page.locator('#count').innerText();
      assert.notEqual(countAfter, countBefore, 'the count text changes');
      assert.match(countAfter, /\b1\b/);
      assert.equal(await page.locator('#q').inputValue(), word, 'the search box keeps the word');
      await audit(size, page, 'calls (filtered)');

      // A status the call does not have: nothing matches.
      await page.locator('#f-status').selectOption({ label: 'Closed' });
      await submit(page, page.getByRole('button', { name: 'Apply', exact: true }));
      assert.equal(await page.locator('#rows').count(), 0);
      await assert.doesNotReject(page.getByText('Nothing matches.').waitFor());
      noErrors(ctx.errors, 'on /calls');
    });

    test('4. open a detail from the list, assign it to the rep, change its status, add a note', async () => {
      await page.goto(`/calls?q=${word}`);
      await submit(page, page.locator('#rows').getByRole('link', { name: subject }));
      assert.equal(page.url(), detailUrl);
      await audit(size, page, 'detail');
      await screenshot(size, page, 'detail');
      const facts = page.locator('dl.facts');
      const assignee = page.locator('#assign-user');
      const rep = await assignee.locator('option').evaluateAll(
        (os) => os.map((o) => ({ value: o.value, label: o.textContent })).find((o) => /rep/i.test(o.label)),
      );
      assert.ok(rep, 'the rep is among the users to assign to');
      await assignee.selectOption(rep.value);
      await submit(page, page.getByRole('button', { name: 'Assign', exact: true }));
      assert.equal(await notice(page).innerText(), 'Assigned.');
      assert.equal(await facts.locator('dt:text-is("Assignee") + dd').innerText(), rep.label);
      assert.equal(await assignee.inputValue(), rep.value, 'the select shows the new assignee');
      await audit(size, page, 'detail (with notice)');

      await page.locator('#status').selectOption({ label: 'In progress' });
      await submit(page, page.getByRole('button', { name: 'Change status' }));
      assert.equal(await notice(page).innerText(), 'Status changed to in progress.');
      assert.equal(await facts.locator('dt:text-is("Status") + dd').innerText(), 'In progress');
      assert.ok((await page.locator('ol.history li').count()) >= 1, 'the history lists the changes');

      await page.getByLabel('Add a note for the team').fill('Customer wants the contract by Friday.');
      await submit(page, page.getByRole('button', { name: 'Add note' }));
      assert.equal(await notice(page).innerText(), 'Note added.');
      assert.equal(await page.locator('ol.conversation .note').innerText(), 'Customer wants the contract by Friday.');
      assert.equal(await page.locator('ol.conversation [aria-current="page"]').count(), 1, 'the log itself is marked');
      await audit(size, page, 'detail (with a note)');
      noErrors(ctx.errors, 'on the detail page');
    });

    test('5. bulk: two rows on /calls to Resolved', async () => {
      await page.goto('/calls');
      // Two open calls (only those may move to resolved), this run's own first.
      const ids = await page.locator('#rows tr').evaluateAll((trs, mine) => trs
        .filter((tr) => ['Logged', 'In progress', 'Awaiting response', 'Escalated']
          .includes(tr.querySelector('td[data-label="Status"]').textContent.trim()))
        .sort((a, b) => Number(b.textContent.includes(mine)) - Number(a.textContent.includes(mine)))
        .slice(0, 2).map((tr) => tr.dataset.id), word);
      assert.equal(ids.length, 2, 'two open calls on the first page');
      // Select all checks every row; unchecking it clears them again. On phones the table
      // header (and so this box) is moved off-screen, so it is reached with the keyboard.
      const all = page.locator('#select-all');
      const toggle = async () => { if (size === 'phone') { await all.focus(); await page.keyboard.press('Space'); } else { await all.click(); } };
      await toggle();
      assert.equal(await page.locator('#rows input[name="ids"]:not(:checked)').count(), 0);
      await toggle();
      assert.equal(await page.locator('#rows input[name="ids"]:checked').count(), 0);

      for (const id of ids) { await page.locator(`#rows tr[data-id="${id}"] input[name="ids"]`).check(); }
      await page.locator('#bulk-action').selectOption({ label: 'Change status to' });
      await page.locator('#bulk-status').selectOption({ label: 'Resolved' });
      await submit(page, page.getByRole('button', { name: 'Apply to selected' }));
      assert.equal(await notice(page).innerText(), 'Updated 2 of 2.');
      assert.equal(new URL(page.url()).pathname, '/calls');
      await audit(size, page, 'calls (after bulk)');
      for (const id of ids) {
        await page.goto(`/logs/${id}`);
        assert.equal(await page.locator('dl.facts dt:text-is("Status") + dd').innerText(), 'Resolved');
      }
      noErrors(ctx.errors, 'on the bulk action');
    });

    test('6. the other pages: emails, messages, analytics, settings', async () => {
      for (const [href, title] of [['/emails', 'Emails'], ['/messages', 'Messages'], ['/analytics', 'Analytics'], ['/settings', 'Settings']]) {
        await page.goto('/');
        await submit(page, page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: title }));
        assert.equal(new URL(page.url()).pathname, href);
        assert.equal(await page.locator('h1').innerText(), title);
        assert.equal(await page.getByRole('link', { name: title, exact: true }).getAttribute('aria-current'), 'page');
        await audit(size, page, title.toLowerCase());
      }
      await page.goto('/analytics');
      await screenshot(size, page, 'analytics');
      await page.locator('#a-days').selectOption({ index: 0 });
      await submit(page, page.getByRole('button', { name: 'Show' }));
      assert.equal(new URL(page.url()).pathname, '/analytics');
      noErrors(ctx.errors, 'on emails, messages, analytics and settings');
    });

    test('7. live update: a call logged in another browser shows up on /calls without a reload, and its status change too', async () => {
      const a = await newContext(size);
      try {
        const pageA = await a.context.newPage();
        await signIn(pageA);
        // Listen from the socket's creation on, so the hello frame cannot slip by.
        const events = [];
        const hello = new Promise((resolve) => {
          pageA.on('websocket', (ws) => {
            if (new URL(ws.url()).pathname !== '/ws') { return; }
            ws.on('framereceived', (f) => {
              const m = JSON.parse(f.payload);
              if (m.type === 'hello') { resolve(); }
              if (m.type === 'event') { events.push(m.event); }
            });
          });
        });
        await pageA.goto('/calls');
        await hello;
        await pageA.evaluate(() => { window.__sameDocument = true; });
        assert.equal(await pageA.locator('#live-badge').isHidden(), true, 'no badge before anything happens');

        const liveSubject = `Live call ${word}`;
        const liveUrl = await quickLog(page, { subject: liveSubject, content: `Logged in the other browser (${word}).` });
        const liveId = new URL(liveUrl).pathname.split('/').pop();

        const row = pageA.locator(`#rows tr.new[data-id="${liveId}"]`);
        await assert.doesNotReject(row.first().waitFor({ timeout: 20_000 }), 'the new row appears in page A');
        assert.match(await row.first().innerText(), new RegExp(liveSubject));
        // One create sends communication.created and, as quick log assigns to its author,
        // communication.assigned: both are handled, and the row must still be there once.
        await pageA.waitForFunction(() => document.getElementById('live').textContent !== '');
        await pageA.waitForTimeout(1500);
        assert.equal(await row.count(), 1, `the new row is shown once (events: ${events.join(', ')})`);
        assert.equal(await pageA.evaluate(() => window.__sameDocument), true, 'page A was not reloaded');
        assert.equal(await pageA.locator('#rows tr').first().getAttribute('class'), 'new', 'the new row comes first');
        await assert.doesNotReject(pageA.locator('#live-badge').waitFor({ state: 'visible' }));
        assert.ok(Number(await pageA.locator('#live-count').innerText()) >= 1, '#live-count is at least 1');
        await assert.doesNotReject(pageA.waitForFunction(() => /New call logged/.test(document.getElementById('live').textContent)));
        await audit(size, pageA, 'calls (live row)');

        // A status changed in the other browser is redrawn in page A's row, still without a reload.
        await page.locator('#status').selectOption({ label: 'In progress' });
        await submit(page, page.getByRole('button', { name: 'Change status' }));
        assert.equal(await notice(page).innerText(), 'Status changed to in progress.');
        await assert.doesNotReject(
          pageA.waitForFunction((id) => {
            const cell = document.querySelector(`#rows tr[data-id="${id}"] td[data-label="Status"]`);
            return cell && /In progress/.test(cell.textContent);
          }, liveId, { timeout: 20_000 }),
          'the changed status shows in page A',
        );
        assert.equal(await row.count(), 1, 'the redrawn row is still shown once');
        assert.equal(await pageA.evaluate(() => window.__sameDocument), true, 'page A was not reloaded for the change');
        noErrors(a.errors, 'in page A');
        noErrors(ctx.errors, 'in page B');
      } finally {
        await a.context.close();
      }
    });

    test('8. sign out', async () => {
      await page.goto('/');
      await submit(page, page.getByRole('button', { name: 'Sign out' }));
      assert.equal(new URL(page.url()).pathname, '/login');
      await page.goto('/calls');
      assert.equal(new URL(page.url()).pathname, '/login', 'signed out: /calls leads to /login');
      noErrors(ctx.errors, 'on sign out');
    });

    test('9. the pages break no Content-Security-Policy rule (a context without bypassCSP)', async () => {
      const strict = await newContext(size, { bypassCSP: false });
      try {
        // Reported also as console errors; this catches them even if a message changes.
        await strict.context.addInitScript(() => {
          window.__csp = [];
          document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
        });
        const p = await strict.context.newPage();
        const loginRes = await p.goto('/login');
        assert.match(loginRes.headers()['content-security-policy'] || '', /script-src 'self'/);
        await signIn(p);
        for (const href of ['/', '/calls', '/emails', '/messages', new URL(detailUrl).pathname, '/log/new', '/analytics']) {
          await p.goto(href);
          await p.waitForFunction(() => document.body.dataset.liveReady === 'true', null, { timeout: 10_000 })
            .catch(() => assert.fail(`app.js did not run on ${href}`));
          await p.waitForTimeout(300); // let the WebSocket connect
          assert.deepEqual(await p.evaluate(() => window.__csp), [], `CSP violations on ${href}`);
        }
        noErrors(strict.errors, 'without bypassCSP');
      } finally {
        await strict.context.close();
      }
    });

    test(`10. axe-core (WCAG 2.1 A and AA)${size === 'phone' ? ' and reflow' : ''}: no violations on any page visited`, async (t) => {
      const mine = audits.filter((a) => a.size === size);
      const seen = new Set(mine.map((a) => a.label.replace(/ \(.*\)$/, '')));
      for (const p of ['login', 'home', 'calls', 'emails', 'messages', 'detail', 'quick log', 'analytics', 'settings']) {
        assert.ok(seen.has(p), `axe ran on ${p}`);
      }
      for (const a of mine) {
        await t.test(`${a.label} (${a.url})`, () => {
          const text = a.violations.map((v) => `  ${v.id} [${v.impact}] ${v.help}\n${
            v.nodes.map((n) => `    at ${n.target}\n      ${n.html}`).join('\n')}\n    ${v.helpUrl}`).join('\n');
          const problems = [];
          if (text) { problems.push(`axe violations on ${a.label} at ${size}:\n${text}`); }
          if (a.overflow.length) {
            problems.push(`content sticks out at ${size} (WCAG 1.4.10 Reflow):\n    ${a.overflow.join('\n    ')}`);
          }
          if (problems.length) { console.log(`# ${a.label} (${a.url}):\n${problems.join('\n')}`); }
          assert.equal(problems.length, 0, problems.join('\n'));
        });
      }
    });
  });
}
