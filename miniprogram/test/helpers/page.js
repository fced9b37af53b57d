// Pages through miniprogram-simulate: it knows only Component, so a Page({...}) becomes a
// Component with its functions (lifecycles included) under `methods`; the test calls the
// page lifecycles itself (comp.instance.onLoad(query)).
const path = require('path');
const simulate = require('miniprogram-simulate');
const { flush } = require('./wx');

const ROOT = path.resolve(__dirname, '..', '..');

global.Page = (options) => {
  const def = { data: options.data || {}, methods: {} };
  for (const key of Object.keys(options)) {
    if (key === 'data') continue;
    if (typeof options[key] === 'function') def.methods[key] = options[key];
    else def[key] = options[key];
  }
  return global.Component(def);
};

// Load and attach a page; route like 'pages/user/order'.
function loadPage(route) {
  const id = simulate.load(path.join(ROOT, route), { rootPath: ROOT, compiler: 'official' });
  const comp = simulate.render(id);
  const parent = document.createElement('parent-wrapper');
  comp.attach(parent);
  return comp;
}

// Load a page and run its onLoad(query) through (its promise and what it set going).
async function openPage(route, query) {
  const comp = loadPage(route);
  await comp.instance.onLoad(query);
  await flush();
  return comp;
}

// After a test: the page unloaded, and the app's live socket and duty (utils/live.js,
// utils/duty.js, module singletons) dropped so that the next test starts without them.
function closePage(page) {
  if (page) page.instance.onUnload();
  require('../../utils/duty').reset();
  require('../../utils/live').reset();
}

const texts = (comp, selector) => comp.querySelectorAll(selector).map((n) => n.dom.textContent.trim());

module.exports = { loadPage, openPage, closePage, texts, simulate, ROOT };
