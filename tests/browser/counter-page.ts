// The smallest counter web app: on load it asks the box for its devices and lists them, or says why it
// cannot. Served by the tests from other origins (tests/helpers/site-server.ts).
import type { TestBrowser } from '../helpers/browser.js';

const CONNECTING = 'connecting to the box';
/** The status line once the device list came back (the default config's devices, however many). */
export const CONNECTED = /^connected: [1-9]\d* devices$/;

export interface CounterView {
  /** The status line the clerk reads. */
  status: string;
  /** The device list, "name: state". */
  devices: string[];
  /** The page's console, one message a line. */
  console: string;
}

/** Opens the counter page at `url`, waits until it says whether it reached the box, screenshots it as `shot`. */
export async function openCounter(browser: TestBrowser, url: string, shot: string): Promise<CounterView> {
  const { page, console: messages } = await browser.open(url);
  try {
    await page.locator('#status').filter({ hasNotText: CONNECTING }).waitFor();
    await browser.screenshot(page, shot);
    return {
      status: (await page.textContent('#status')) ?? '',
      devices: await page.locator('#devices li').allTextContents(),
      console: messages.join('\n'),
    };
  } finally {
    await page.close();
  }
}

export function counterPage(boxUrl: string, token: string): string {
  return `<!doctype html>
<html lang="en"><meta charset="utf-8"><title>Counter</title>
<h1>Counter devices</h1>
<p id="status">${CONNECTING}</p>
<ul id="devices"></ul>
<script type="module">
const BOX = ${JSON.stringify(boxUrl)};
const status = document.getElementById('status');
try {
  const res = await fetch(BOX + '/v1/devices', { headers: { authorization: 'Bearer ' + ${JSON.stringify(token)} } });
  if (!res.ok) throw new Error('HTTP ' + res.status);
  const { devices } = await res.json();
  for (const d of devices) {
    const li = document.createElement('li');
    li.textContent = d.name + ': ' + d.state;
    document.getElementById('devices').append(li);
  }
  status.textContent = 'connected: ' + devices.length + ' devices';
} catch (err) {
  // Tell the clerk whether the browser itself said no (Local Network Access) or the box did not answer.
  let permission = 'unknown';
  try { permission = (await navigator.permissions.query({ name: 'loopback-network' })).state; } catch {}
  status.textContent = 'cannot reach the box: ' + err.name + ': ' + err.message +
    ' (loopback-network permission: ' + permission + ')';
}
</script>
</html>
`;
}
