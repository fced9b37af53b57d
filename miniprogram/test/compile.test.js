// Every page the app lists exists, and every WXML and WXSS compiles with WeChat's own
// compilers (miniprogram-compiler's Linux wcc / wcsc), so a template or style mistake fails here.
const fs = require('fs');
const os = require('os');
const path = require('path');
const wcc = require('miniprogram-compiler/src/wcc');
const wcsc = require('miniprogram-compiler/src/wcsc');

const ROOT = path.resolve(__dirname, '..');

function list(dir, ext, out) {
  for (const name of fs.readdirSync(dir)) {
    if (name === 'node_modules' || name === 'test' || name.startsWith('.')) continue;
    const p = path.join(dir, name);
    if (fs.statSync(p).isDirectory()) list(p, ext, out);
    else if (name.endsWith(ext)) out.push(path.relative(ROOT, p).slice(0, -ext.length));
  }
  return out;
}

// wcsc reports its failure as a returned Error
function compileWxss(root, files) {
  const res = wcsc(root, files);
  if (res instanceof Error) throw res;
  return res;
}

test('every page in app.json has its js, json, wxml and wxss', () => {
  const app = JSON.parse(fs.readFileSync(path.join(ROOT, 'app.json'), 'utf8'));
  expect(app.pages.length).toBeGreaterThanOrEqual(4);
  for (const page of app.pages) {
    for (const ext of ['.js', '.json', '.wxml', '.wxss']) {
      expect(fs.existsSync(path.join(ROOT, page + ext)) ? page + ext : 'missing ' + page + ext).toBe(page + ext);
    }
  }
  expect(list(ROOT, '.wxml', []).sort()).toEqual(app.pages.slice().sort());
});

test('every WXML compiles with wcc', () => {
  const files = list(ROOT, '.wxml', []);
  const out = wcc(ROOT, files, [], {});
  for (const f of files) expect(out).toContain(f + '.wxml');
});

test('every WXSS compiles with wcsc', () => {
  const files = list(ROOT, '.wxss', []);
  expect(files).toContain('app');
  const out = compileWxss(ROOT, files);
  for (const f of files) expect(Object.keys(out)).toContain(f + '.wxss');
});

test('a broken template or style does fail', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-compile-'));
  try {
    fs.writeFileSync(path.join(dir, 'good.wxml'), '<view wx:for="{{items}}"><text>{{item.name}}</text></view>');
    fs.writeFileSync(path.join(dir, 'good.json'), '{}');
    fs.writeFileSync(path.join(dir, 'good.wxss'), '.a { color: red; }');
    expect(() => wcc(dir, ['good'], [], {})).not.toThrow();
    expect(() => compileWxss(dir, ['good'])).not.toThrow();
    fs.writeFileSync(path.join(dir, 'bad.wxml'), '<view wx:for="{{items}}"><text>{{item.name</text></view>');
    fs.writeFileSync(path.join(dir, 'bad.json'), '{}');
    expect(() => wcc(dir, ['bad'], [], {})).toThrow();
    fs.writeFileSync(path.join(dir, 'bad.wxss'), '.a { color: red; ');
    expect(() => compileWxss(dir, ['bad'])).toThrow();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
