// The smallest counter web app: on load it asks the box for its devices and lists them, or says why it
// cannot. Served by the tests from other origins (tests/helpers/site-server.ts).

export const CONNECTING = 'connecting to the box';

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
