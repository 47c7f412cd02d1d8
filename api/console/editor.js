// editor.js: a small code editor for JS apps (written for voxrun, no
// dependencies): a textarea over a highlighted copy of its text, a line
// number gutter, and a marked line for compile errors. Tab indents; press
// Escape first to move focus on with Tab.

const KEYWORDS = new Set(('async await break case catch class const continue debugger default delete do else export extends ' +
  'finally for from function if import in instanceof let new of return static super switch this throw try typeof var void ' +
  'while with yield').split(' '));
const LITERALS = new Set(['true', 'false', 'null', 'undefined', 'NaN', 'Infinity']);

// One pattern per token class, tried in order at each position.
const TOKEN = /(\/\/[^\n]*|\/\*[\s\S]*?(?:\*\/|$))|('(?:[^'\\\n]|\\.)*'?|"(?:[^"\\\n]|\\.)*"?|`(?:[^`\\]|\\[\s\S])*`?)|(\b\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?\b|\b0[xX][\da-fA-F]+\b)|([A-Za-z_$][\w$]*)|(\s+)|([^\sA-Za-z_$\d'"`/]+|\/)/g;

const esc = (s) => s.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' }[c]));

// highlight returns one HTML string per line of src.
export function highlight(src) {
  const lines = [''];
  const push = (cls, text) => {
    const parts = text.split('\n');
    parts.forEach((p, i) => {
      if (i > 0) lines.push('');
      if (p) lines[lines.length - 1] += cls ? `<span class="tok-${cls}">${esc(p)}</span>` : esc(p);
    });
  };
  TOKEN.lastIndex = 0;
  let m;
  while ((m = TOKEN.exec(src)) !== null) {
    if (m[0] === '') { TOKEN.lastIndex++; continue; }
    if (m[1]) push('comment', m[1]);
    else if (m[2]) push('string', m[2]);
    else if (m[3]) push('number', m[3]);
    else if (m[4]) push(KEYWORDS.has(m[4]) ? 'keyword' : LITERALS.has(m[4]) ? 'literal' : '', m[4]);
    else if (m[5]) push('', m[5]);
    else push('punct', m[6]);
  }
  return lines;
}

export class Editor {
  constructor({ label, value = '', onChange } = {}) {
    this.onChange = onChange;
    this.errorLine = 0;
    this.el = document.createElement('div');
    this.el.className = 'editor';
    const help = `editor-help-${Math.random().toString(36).slice(2, 8)}`;
    this.el.innerHTML = `<div class="gutter" aria-hidden="true"></div><div class="code"><pre class="hl" aria-hidden="true"><code></code></pre>` +
      `<textarea spellcheck="false" autocapitalize="off" autocomplete="off" wrap="off" aria-describedby="${help}"></textarea></div>` +
      `<p class="sr-only" id="${help}">Tab inserts two spaces. Press Escape, then Tab, to leave the editor.</p>`;
    this.gutter = this.el.querySelector('.gutter');
    this.code = this.el.querySelector('code');
    this.pre = this.el.querySelector('pre');
    this.ta = this.el.querySelector('textarea');
    this.ta.setAttribute('aria-label', label || 'Source code');
    this.ta.value = value;
    this.escaped = false;
    this.ta.addEventListener('input', () => { this.render(); if (this.onChange) this.onChange(this.value); });
    this.ta.addEventListener('scroll', () => this.sync());
    this.ta.addEventListener('keydown', (e) => this.key(e));
    this.render();
  }

  get value() { return this.ta.value; }
  set value(v) { this.ta.value = v; this.render(); }

  key(e) {
    if (e.key === 'Escape') { this.escaped = true; return; }
    if (e.key === 'Tab' && !this.escaped && !e.shiftKey) {
      e.preventDefault();
      const { selectionStart: s, selectionEnd: t, value } = this.ta;
      this.ta.value = value.slice(0, s) + '  ' + value.slice(t);
      this.ta.selectionStart = this.ta.selectionEnd = s + 2;
      this.render();
      if (this.onChange) this.onChange(this.value);
      return;
    }
    this.escaped = false;
  }

  // markError marks line (1-based) as the place of a compile error; 0 clears.
  markError(line) {
    this.errorLine = line || 0;
    this.render();
  }

  // goTo puts the caret at the start of line and scrolls it into view.
  goTo(line, column = 1) {
    const lines = this.ta.value.split('\n');
    let pos = 0;
    for (let i = 0; i < Math.min(line - 1, lines.length); i++) pos += lines[i].length + 1;
    pos += Math.max(0, column - 1);
    this.ta.focus();
    this.ta.setSelectionRange(pos, pos);
    const lh = parseFloat(getComputedStyle(this.ta).lineHeight) || 20;
    this.ta.scrollTop = Math.max(0, (line - 3) * lh);
    this.sync();
  }

  render() {
    const lines = highlight(this.ta.value);
    this.code.innerHTML = lines.map((l, i) => `<span class="line${i + 1 === this.errorLine ? ' err' : ''}">${l || ' '}</span>`).join('\n');
    this.gutter.innerHTML = lines.map((_, i) => `<span class="${i + 1 === this.errorLine ? 'err' : ''}">${i + 1}</span>`).join('\n');
    this.sync();
  }

  sync() {
    this.pre.scrollTop = this.ta.scrollTop;
    this.pre.scrollLeft = this.ta.scrollLeft;
    this.gutter.scrollTop = this.ta.scrollTop;
  }
}
