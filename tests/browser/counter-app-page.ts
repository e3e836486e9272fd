// A counter web app as a county's developer would write it against the served client: it imports
// `<box>/v1/client.js`, pairs (shows the code, waits for the clerk's approval on the box, keeps the token for
// the tab), lists the devices and follows them live, previews and prints with an Idempotency-Key, shows the
// camera, takes a guided capture, verifies it against a reference photo, prints a certificate and confirms
// its seal, and shows the box's problems as the clerk would read them. Every result lands in an element the
// tests (tests/browser/counter-app.test.ts) and the bench (bench/browser.ts) read; nothing else is exposed.

/** sessionStorage key of the paired token: a reload keeps it, a new tab pairs again. */
export const TOKEN_KEY = 'boxagent-token';

/** The document the page previews and prints (a small form on A4). */
export const PRINT_DOCUMENT = {
  page: { widthMm: 210, heightMm: 297 },
  items: [{ type: 'text', xMm: 20, yMm: 30, text: '张三 ZHANG San 户籍证明', sizePt: 12 }],
};

/** What the certificate says (the senior-citizen card template's fields). */
export const CERTIFICATE_FIELDS = {
  name: '张秀英',
  sex: '女',
  birthDate: '1948-03-12',
  idNumber: '430102194803120025',
  cardNumber: 'HN-LY-2026-000117',
  issuer: '长沙县民政局',
  issueDate: '2026-11-26',
};

export interface CounterAppOptions {
  /** The box, e.g. http://127.0.0.1:8620 (the client module is loaded from it and calls it). */
  box: string;
  printer: string;
  camera: string;
  photoPrinter: string;
  seal: string;
}

export function counterAppPage(o: CounterAppOptions): string {
  const config = JSON.stringify({
    ...o,
    document: PRINT_DOCUMENT,
    fields: CERTIFICATE_FIELDS,
    tokenKey: TOKEN_KEY,
  });
  return `<!doctype html>
<html lang="zh-CN"><meta charset="utf-8"><title>综合窗口 3</title>
<style>
  body { font: 14px sans-serif; margin: 12px; }
  section { border: 1px solid #ccc; padding: 6px; margin: 6px 0; }
  img { max-width: 240px; max-height: 180px; border: 1px solid #999; }
  #error { color: #b00; }
</style>
<h1>综合窗口 3</h1>
<p id="status">connecting to the box</p>
<p id="pairing"></p>
<section><h2>Devices</h2><ul id="devices"></ul></section>
<section><h2>Jobs</h2><ul id="jobs"></ul></section>
<section><h2>Print</h2>
  <button id="preview">Preview</button> <button id="print">Print</button>
  <button id="bad-print">Print on a printer that does not exist</button>
  <p id="print-result"></p><img id="preview-image" alt="preview">
</section>
<section><h2>Camera</h2>
  <img id="camera" crossorigin="anonymous" alt="camera">
  <img id="camera-no-cors" alt="camera without crossorigin">
  <p>Reference photo (from the ID card): <input id="reference" type="file" accept="image/*"></p>
  <button id="capture">Capture</button> <button id="verify">Verify</button>
  <p id="capture-result"></p><img id="captured" alt="captured face">
  <p id="verify-result"></p>
</section>
<section><h2>Certificate</h2>
  <button id="certificate">Print certificate</button> <button id="confirm-seal">Confirm seal</button>
  <p id="certificate-result"></p><p id="seal-result"></p>
</section>
<p id="error"></p>
<script type="module">
const C = ${config};
const $ = (id) => document.getElementById(id);
// For the bench: when the device list and the first snapshot were on screen, from navigation start.
window.counterTimings = {};

let box;
try {
  box = await import(C.box + '/v1/client.js');
} catch (err) {
  // The box refused this page's origin (or is not running): say so instead of a blank page.
  $('status').textContent = 'cannot load the box client: ' + err.name + ': ' + err.message;
  throw err;
}

function showError(err) {
  // The problem as the box wrote it (its title is in the language asked for with locale).
  $('error').textContent = err instanceof box.BoxagentError ? err.code + ': ' + err.title : String(err);
  $('error').dataset.code = err.code ?? '';
}

let token = sessionStorage.getItem(C.tokenKey);
if (!token) {
  try {
    const pairing = await box.requestPairing({ name: '综合窗口 3', scopes: ['read', 'print', 'face', 'seal'] });
    $('pairing').textContent = '配对码 ' + pairing.code;
    $('pairing').dataset.code = pairing.code;
    token = await pairing.wait();
    sessionStorage.setItem(C.tokenKey, token);
    $('pairing').textContent = 'paired';
  } catch (err) {
    $('status').textContent = 'pairing failed: ' + err.name + ': ' + err.message;
    throw err;
  }
}
const client = box.createClient({ token, locale: 'zh-CN' });

function deviceRow(d) {
  let li = document.querySelector('#devices li[data-device="' + d.id + '"]');
  if (!li) {
    li = document.createElement('li');
    li.dataset.device = d.id;
    $('devices').append(li);
  }
  return li;
}
function showDevice(id, name, state) {
  const li = deviceRow({ id });
  if (name) li.dataset.name = name;
  li.dataset.state = state;
  li.textContent = (li.dataset.name ?? id) + ': ' + state;
}
function showJob(job, kind, state, source) {
  let li = document.querySelector('#jobs li[data-job="' + job + '"]');
  if (!li) {
    li = document.createElement('li');
    li.dataset.job = job;
    $('jobs').append(li);
  }
  li.dataset.state = state;
  li.dataset.source = source;
  li.textContent = kind + ' ' + job + ': ' + state;
}

const waiters = [];
/** Resolves with the first event for which pick returns a value. */
function awaitEvent(pick) {
  return new Promise((resolve) => waiters.push({ pick, resolve }));
}

client.events.subscribe({
  snapshot(s) {
    for (const d of s.devices) showDevice(d.id, d.name, d.state);
    for (const j of s.jobs) showJob(j.job, j.kind, j.state, 'snapshot');
    $('status').textContent = 'connected';
    window.counterTimings.snapshot ??= performance.now();
  },
  event(e) {
    if (e.type === 'device.state') showDevice(e.device, undefined, e.state);
    if (e.type.endsWith('.job')) showJob(e.job, e.kind, e.state, 'event');
    for (const w of [...waiters]) {
      const v = w.pick(e);
      if (v !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(v);
      }
    }
  },
  error() {
    $('status').textContent = 'reconnecting';
  },
});

try {
  const { devices } = await client.devices.list();
  for (const d of devices) showDevice(d.id, d.name, d.state);
  window.counterTimings.devices ??= performance.now();
} catch (err) {
  showError(err);
}

const on = (id, fn) =>
  $(id).addEventListener('click', async () => {
    $('error').textContent = '';
    try {
      await fn();
    } catch (err) {
      showError(err);
    }
  });

on('preview', async () => {
  const png = await client.print.preview({ printer: C.printer, document: C.document });
  $('preview-image').src = URL.createObjectURL(png);
});

on('print', async () => {
  $('print-result').textContent = 'printing…';
  // One key per click: a retry of the same click (a timeout, a double submit) must not print twice.
  const key = 'counter3-' + Date.now() + '-' + Math.random().toString(36).slice(2);
  const input = { printer: C.printer, document: C.document };
  const first = await client.print.submit(input, { idempotencyKey: key });
  const retry = await client.print.submit(input, { idempotencyKey: key });
  $('print-result').dataset.first = first.id;
  $('print-result').dataset.retry = retry.id;
  $('print-result').textContent = 'job ' + first.id + ' (' + first.state + '), retry gave ' + retry.id;
});

on('bad-print', async () => {
  await client.print.submit({ printer: 'printer-9', document: C.document });
});

// The live camera: the token goes in the URL (an <img> cannot send headers) and is bound to this page's
// Origin, which the browser sends only for a CORS image.
const stream = C.box + '/v1/camera/' + C.camera + '/stream?access_token=' + encodeURIComponent(token);
$('camera').src = stream;

let captured;
on('capture', async () => {
  $('capture-result').textContent = 'look at the camera…';
  const r = await client.face.capture({ camera: C.camera, liveness: true, timeoutMs: 15000 });
  captured = r.frame;
  $('captured').src = 'data:image/jpeg;base64,' + r.aligned;
  $('capture-result').textContent = 'captured: ' + (r.face.liveness?.live ? 'live' : 'not live');
});

on('verify', async () => {
  const file = $('reference').files[0];
  if (!file) throw new Error('choose the reference photo first');
  $('verify-result').textContent = 'verifying…';
  const r = await client.face.verify({ probe: { camera: C.camera, timeoutMs: 15000 }, reference: { image: file } });
  $('verify-result').dataset.decision = r.decision;
  $('verify-result').textContent = 'decision: ' + r.decision + ' (score ' + r.score.toFixed(2) + ')';
});

let sealJob;
on('certificate', async () => {
  if (!captured) throw new Error('capture the photo first');
  const job = await client.certificates.submit({
    template: 'senior-citizen-card',
    fields: C.fields,
    photo: { image: captured },
    printer: C.photoPrinter,
    seal: { device: C.seal, operator: 'clerk Li' },
  });
  const printed = awaitEvent((e) =>
    e.type === 'certificate.job' && e.job === job.id && e.sealJob ? e : undefined);
  $('certificate-result').textContent = 'certificate ' + job.id + ': ' + job.state;
  await printed;
  const card = await client.certificates.get({ id: job.id });
  sealJob = { id: card.seal.jobId, token: card.seal.confirmationToken };
  $('certificate-result').dataset.state = card.state;
  $('certificate-result').textContent = 'certificate ' + card.id + ': ' + card.state + ', seal job ' + sealJob.id + ' waits for confirmation';
});

on('confirm-seal', async () => {
  const r = await client.seal.confirm({ id: sealJob.id, token: sealJob.token });
  $('seal-result').dataset.state = r.state;
  $('seal-result').textContent = 'seal ' + r.id + ': ' + r.state;
});
</script>
</html>
`;
}
