// Runs a page's own logic (its Page({...}) options) in Node: `data`, `setData` with the path
// keys pages use ('form.serviceId', 'tags[2].on'), and its methods bound to the instance.
// The WXML is not rendered here (the jest tests do that); the flow reads `page.data`.
const path = require('path');

const ROOT = path.resolve(__dirname, '..', '..');

function setPath(target, key, value) {
  const parts = key.replace(/\[(\d+)\]/g, '.$1').split('.');
  let node = target;
  for (let i = 0; i < parts.length - 1; i++) {
    if (node[parts[i]] === undefined || node[parts[i]] === null) node[parts[i]] = /^\d+$/.test(parts[i + 1]) ? [] : {};
    node = node[parts[i]];
  }
  node[parts[parts.length - 1]] = value;
}

function loadPage(route) {
  let options = null;
  global.Page = (o) => {
    options = o;
  };
  const file = path.join(ROOT, route + '.js');
  delete require.cache[require.resolve(file)];
  require(file);
  const page = { data: JSON.parse(JSON.stringify(options.data || {})), route };
  page.setData = (patch) => {
    for (const k of Object.keys(patch)) setPath(page.data, k, patch[k]);
  };
  for (const k of Object.keys(options)) {
    if (typeof options[k] === 'function') page[k] = options[k].bind(page);
  }
  return page;
}

// an event as a tap on an element with data-* gives it
const tap = (dataset, detail) => ({ currentTarget: { dataset: dataset || {} }, detail: detail || {} });

module.exports = { loadPage, tap, ROOT };
