// The box's own local page (GET /): device states live, pairing approvals, a test print with its preview, the
// camera, recent jobs. Logs in with the one-time link `boxagent admin-link` prints (#login=<secret>), kept as
// an admin session token in sessionStorage (this tab only). Every text from a page or device goes in with
// textContent, never as HTML: a pairing's name is chosen by whoever asked.
import { createClient } from '/v1/client.js';
import { LOCALES, TEXTS } from './texts.js';

const LOCALE_KEY = 'boxagent.locale';
const SESSION_KEY = 'boxagent.adminSession';
const LOGIN_RE = /^#login=([A-Za-z0-9_-]+)$/;
/** Pairings decided or expired by the CLI reach the event stream only on a replay: look again this often. */
const PAIRINGS_EVERY_MS = 5000;
const JOB_KINDS = ['print', 'seal', 'certificate'];
const RECENT_JOBS = 20;

const stored = localStorage.getItem(LOCALE_KEY);
let locale = LOCALES.includes(stored) ? stored : 'zh-CN';
let session;
let client;
let subscription;
let pairingTimer;
let connected = false;
let cameraOn = false;
/** The previewed test print: what was shown is what gets printed, under one Idempotency-Key. */
let preview;
const devices = new Map();
let pairings = [];
const jobs = new Map();

const $ = (id) => document.getElementById(id);

function t(key, vars = {}) {
  const text = TEXTS[locale][key] ?? TEXTS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_m, k) => String(vars[k] ?? ''));
}
const named = (table, key) => TEXTS[locale][table][key] ?? key;
const problemText = (err) => err?.detail ?? err?.title ?? err?.message ?? String(err);

function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

function showMessage(text) {
  $('message').textContent = text ?? '';
  $('message').hidden = !text;
}

function renderStatus() {
  $('status').textContent = session ? t(connected ? 'connected' : 'disconnected') : '';
}

function renderDevices() {
  const rows = [...devices.values()].map((d) =>
    el('tr', { 'data-device': d.id }, [
      el('td', { text: d.name }),
      el('td', { class: `state-${d.state}`, text: named('deviceStates', d.state) }),
      el('td', { text: d.reason ?? '' }),
    ]),
  );
  if (rows.length === 0) rows.push(el('tr', {}, [el('td', { colspan: '3', text: t('noDevices') })]));
  $('devices').tBodies[0].replaceChildren(...rows);
}

function fillSelect(select, kind) {
  const current = select.value;
  const options = [...devices.values()]
    .filter((d) => d.kind === kind)
    .map((d) => el('option', { value: d.id, text: d.name }));
  select.replaceChildren(...options);
  if (current) select.value = current;
}

function renderPairings() {
  const items = pairings.map((p) =>
    el('li', { 'data-code': p.code }, [
      el('strong', { text: p.code }),
      ` ${p.name} · ${p.origin} · ${p.scopes.join(', ')} `,
      el('button', { type: 'button', 'data-action': 'approve', text: t('approve') }),
      ' ',
      el('button', { type: 'button', 'data-action': 'deny', text: t('deny') }),
    ]),
  );
  if (items.length === 0) items.push(el('li', { class: 'empty', text: t('noPairings') }));
  $('pairings').replaceChildren(...items);
}

function renderJobs() {
  const recent = [...jobs.values()]
    .sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1))
    .slice(0, RECENT_JOBS);
  const rows = recent.map((j) =>
    el('tr', { 'data-job': j.id }, [
      el('td', { text: named('kinds', j.kind) }),
      el('td', { text: j.id }),
      el('td', { text: devices.get(j.device)?.name ?? j.device }),
      el('td', { class: `state-${j.state}`, text: named('jobStates', j.state) }),
      el('td', { text: new Date(j.createdAt).toLocaleString(locale) }),
    ]),
  );
  if (rows.length === 0) rows.push(el('tr', {}, [el('td', { colspan: '5', text: t('noJobs') })]));
  $('jobs').tBodies[0].replaceChildren(...rows);
}

function applyTexts() {
  document.documentElement.lang = locale;
  document.title = `boxagent · ${t('title')}`;
  for (const node of document.querySelectorAll('[data-t]')) node.textContent = t(node.dataset.t);
  $('camera-toggle').textContent = t(cameraOn ? 'hideCamera' : 'showCamera');
  renderStatus();
  if (!session) return;
  renderDevices();
  renderPairings();
  renderJobs();
}

/** Adds or updates a job; a list answer that left before an event arrived must not turn its state back. */
function upsertJob(job) {
  const key = `${job.kind}:${job.id}`;
  const known = jobs.get(key);
  if (known && job.updatedAt < known.updatedAt) return;
  jobs.set(key, { ...known, ...job, createdAt: known?.createdAt ?? job.createdAt });
}

/** A call failed: a lapsed or revoked session sends the page back to the login hint. */
function failed(err, where = showMessage) {
  if (err?.status === 401) return logout(false);
  where(t('error', { detail: problemText(err) }));
}

async function refreshPairings() {
  try {
    pairings = (await client.pairings.list()).pairings;
    renderPairings();
  } catch (err) {
    failed(err);
  }
}

async function refreshJobs() {
  const lists = await Promise.allSettled([
    client.print
      .list({ limit: 10 })
      .then((r) => r.jobs.map((j) => ({ ...j, kind: 'print', device: j.printer }))),
    client.seal.list({ limit: 10 }).then((r) => r.jobs.map((j) => ({ ...j, kind: 'seal' }))),
    client.certificates
      .list({ limit: 10 })
      .then((r) => r.certificates.map((j) => ({ ...j, kind: 'certificate', device: j.printer }))),
  ]);
  for (const list of lists) {
    if (list.status === 'rejected') failed(list.reason);
    else for (const j of list.value) upsertJob(j);
  }
  renderJobs();
}

function onJobEvent(e) {
  upsertJob({ kind: e.kind, id: e.job, device: e.device, state: e.state, createdAt: e.at, updatedAt: e.at });
  renderJobs();
}

async function login() {
  const m = LOGIN_RE.exec(location.hash);
  if (m) {
    // The secret leaves the address bar (and this history entry) before anything else happens.
    history.replaceState(null, '', location.pathname + location.search);
    sessionStorage.removeItem(SESSION_KEY);
    showMessage(t('loggingIn'));
    const res = await fetch('/v1/admin-sessions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'accept-language': locale },
      body: JSON.stringify({ secret: m[1] }),
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) {
      // The two refusals a clerk meets get the page's own words; anything else, the daemon's.
      const detail =
        res.status === 401
          ? t('linkRefused')
          : res.status === 429
            ? t('tooManyLogins', { seconds: res.headers.get('retry-after') ?? '60' })
            : (body.detail ?? body.title ?? res.status);
      showMessage(t('loginFailed', { detail }));
      return undefined;
    }
    showMessage('');
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(body));
    return body;
  }
  try {
    const kept = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null');
    if (kept && Date.parse(kept.expiresAt) > Date.now()) return kept;
  } catch {
    // Not ours or damaged: log in again.
  }
  sessionStorage.removeItem(SESSION_KEY);
  showMessage(t('loginNeeded'));
  return undefined;
}

function start() {
  client = createClient({ token: session.token, locale });
  $('admin').hidden = false;
  $('logout').hidden = false;
  subscription = client.events.subscribe({
    snapshot(s) {
      connected = true;
      devices.clear();
      for (const d of s.devices) devices.set(d.id, d);
      for (const j of s.jobs) {
        if (JOB_KINDS.includes(j.kind)) upsertJob({ ...j, id: j.job });
      }
      fillSelect($('printer'), 'printer');
      fillSelect($('camera'), 'camera');
      renderDevices();
      renderStatus();
      void refreshPairings();
      void refreshJobs();
    },
    on: {
      'device.state'(e) {
        const d = devices.get(e.device);
        if (!d) return;
        Object.assign(d, { state: e.state, reason: e.reason, since: e.at });
        renderDevices();
      },
      'pairing.requested': () => void refreshPairings(),
      'pairing.approved': () => void refreshPairings(),
      'pairing.denied': () => void refreshPairings(),
      'pairing.expired': () => void refreshPairings(),
      'print.job': onJobEvent,
      'seal.job': onJobEvent,
      'certificate.job': onJobEvent,
    },
    error() {
      connected = false;
      renderStatus();
    },
  });
  pairingTimer = setInterval(() => void refreshPairings(), PAIRINGS_EVERY_MS);
  applyTexts();
}

/** Ends the session here; `revoke` also ends it on the box (the Log out button). */
async function logout(revoke) {
  const ending = session;
  session = undefined;
  subscription?.close();
  clearInterval(pairingTimer);
  setCamera(false);
  sessionStorage.removeItem(SESSION_KEY);
  $('admin').hidden = true;
  $('logout').hidden = true;
  if (revoke && ending) await client.tokens.revoke({ id: ending.tokenId }).catch(() => undefined);
  showMessage(t('loginNeeded'));
  renderStatus();
}

function setCamera(on) {
  cameraOn = on && session !== undefined && $('camera').value !== '';
  const img = $('camera-view');
  // The stream is an <img>: it cannot send headers, so the token goes in the query (crossorigin="anonymous"
  // keeps it a CORS request, as the daemon's origin binding expects).
  if (cameraOn) {
    img.src = `/v1/camera/${encodeURIComponent($('camera').value)}/stream?access_token=${encodeURIComponent(session.token)}`;
  } else img.removeAttribute('src');
  img.hidden = !cameraOn;
  $('camera-toggle').textContent = t(cameraOn ? 'hideCamera' : 'showCamera');
}

function testDocument() {
  return {
    page: { widthMm: 120, heightMm: 50 },
    items: [
      { type: 'text', xMm: 8, yMm: 14, text: t('testPrintText'), sizePt: 12 },
      { type: 'text', xMm: 8, yMm: 28, text: new Date().toLocaleString(locale), sizePt: 10 },
    ],
  };
}

$('locale').addEventListener('click', () => {
  locale = locale === 'zh-CN' ? 'en' : 'zh-CN';
  localStorage.setItem(LOCALE_KEY, locale);
  // The daemon's own texts (errors) follow the switch through Accept-Language.
  if (session) client = createClient({ token: session.token, locale });
  applyTexts();
});

$('logout').addEventListener('click', () => void logout(true));

$('pairings').addEventListener('click', (ev) => {
  const button = ev.target.closest('button[data-action]');
  if (!button) return;
  const code = button.closest('li').dataset.code;
  button.disabled = true;
  const call = button.dataset.action === 'approve' ? client.pairings.approve : client.pairings.deny;
  call({ code })
    .catch((err) => failed(err))
    .finally(() => void refreshPairings());
});

$('preview').addEventListener('click', async () => {
  const printer = $('printer').value;
  const document = testDocument();
  $('print-result').textContent = '';
  try {
    const answer = await client.print.preview({ printer, document });
    const blob = answer instanceof Blob ? answer : answer.blob;
    if (preview) URL.revokeObjectURL(preview.url);
    preview = { url: URL.createObjectURL(blob), printer, document, key: crypto.randomUUID() };
    $('preview-image').src = preview.url;
    $('preview-image').hidden = false;
    $('print').disabled = false;
  } catch (err) {
    failed(err, (text) => ($('print-result').textContent = text));
  }
});

$('print').addEventListener('click', async () => {
  if (!preview) return;
  $('print').disabled = true;
  try {
    // A retry after a lost answer sends the same key: the daemon answers with the job it already made.
    const job = await client.print.submit(
      { printer: preview.printer, document: preview.document },
      { idempotencyKey: preview.key },
    );
    $('print-result').textContent = t('printed', { id: job.id });
    upsertJob({ ...job, kind: 'print', device: job.printer });
    renderJobs();
  } catch (err) {
    $('print').disabled = false;
    failed(err, (text) => ($('print-result').textContent = text));
  }
});

$('camera-toggle').addEventListener('click', () => setCamera(!cameraOn));

applyTexts();
session = await login();
if (session) start();
