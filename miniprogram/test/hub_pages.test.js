// Every page the hub opens from a subscribe message is a page of this app: WeChat (and the
// sandbox) refuse a message whose page app.json does not list (41030). The hub's links are read
// from its source (actors/, hub/, adapters/), so a new link without its page fails here.
const fs = require('fs');
const path = require('path');

const REPO = path.resolve(__dirname, '..', '..');
const app = JSON.parse(fs.readFileSync(path.join(REPO, 'miniprogram', 'app.json'), 'utf8'));

function pySources(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...pySources(p));
    else if (entry.name.endsWith('.py')) out.push(p);
  }
  return out;
}

function hubLinks() {
  const links = new Map();
  for (const dir of ['actors', 'hub', 'adapters']) {
    for (const file of pySources(path.join(REPO, dir))) {
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(/["'](pages\/[A-Za-z0-9_/-]+)/g)) links.set(m[1], path.relative(REPO, file));
    }
  }
  return links;
}

test('the pages the hub links in subscribe messages are in app.json', () => {
  const links = hubLinks();
  // the four the hub sends today (order progress, payment due, job reminder, withdrawal result)
  expect([...links.keys()].sort()).toEqual(expect.arrayContaining(['pages/electrician/order-detail', 'pages/electrician/profile', 'pages/user/order-detail', 'pages/user/payment']));
  for (const [page, file] of links) {
    expect({ page, file, listed: app.pages.includes(page) }).toEqual({ page, file, listed: true });
  }
});

test('each linked page reads the query the hub gives it (?id= for an order)', () => {
  for (const route of ['pages/user/order-detail', 'pages/user/payment', 'pages/electrician/order-detail']) {
    const js = fs.readFileSync(path.join(REPO, 'miniprogram', route + '.js'), 'utf8');
    expect(js).toMatch(/query\.id/);
  }
});

test("the develop build's template ids are the hub's defaults (adapters/settings.py), key for key", () => {
  const py = fs.readFileSync(path.join(REPO, 'adapters', 'settings.py'), 'utf8');
  const consts = Object.fromEntries([...py.matchAll(/^([A-Z_]+) = "([^"]+)"$/gm)].map((m) => [m[1], m[2]]));
  const block = /SANDBOX_TEMPLATES = \{([\s\S]*?)\n\}/.exec(py)[1];
  const hub = {};
  for (const m of block.matchAll(/"([a-z_]+)": (?:"([^"]+)"|([A-Z_]+))/g)) hub[m[1]] = m[2] || consts[m[3]];
  expect(Object.keys(hub)).toHaveLength(7);
  expect(require('../utils/config').TEMPLATES.develop).toEqual(hub);
});
