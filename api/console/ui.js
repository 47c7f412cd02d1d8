// ui.js: small DOM helpers shared by the pages. Every control gets a
// visible label; messages go to one polite live region.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'for') el.htmlFor = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

let seq = 0;
export const uid = (p = 'f') => `${p}-${++seq}`;

// say puts a message in the status region (read out by screen readers).
export function say(msg, kind = 'info') {
  const s = document.getElementById('status');
  s.textContent = msg;
  s.dataset.kind = kind;
  clearTimeout(say.t);
  if (kind !== 'error') say.t = setTimeout(() => { s.textContent = ''; }, 6000);
}

export function errorText(e) {
  if (!e) return 'unknown error';
  return e.message || String(e);
}

// page replaces the main region and moves focus to its heading.
export function page(title, ...children) {
  const main = document.getElementById('main');
  const h1 = h('h1', { tabindex: '-1' }, title);
  main.replaceChildren(h1, ...children);
  document.title = `${title} · voxrun console`;
  h1.focus();
  return main;
}

// section is a titled part of a page.
export const section = (title, ...children) => h('section', { 'aria-label': title }, h('h2', {}, title), ...children);

// table renders rows; columns are {label, value(row) → string|Node}.
export function table(caption, columns, rows, empty = 'Nothing yet.') {
  if (!rows || rows.length === 0) return h('p', { class: 'empty' }, empty);
  return h('div', { class: 'table-wrap' },
    h('table', {},
      h('caption', { class: 'sr-only' }, caption),
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c.label)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, columns.map((c) => h('td', { 'data-label': c.label }, c.value(r) ?? '')))))));
}

// field is one labelled input; spec: {name, label, type, value, options, required, help, placeholder}.
export function field(spec) {
  const id = uid(spec.name);
  let input;
  if (spec.type === 'select') {
    input = h('select', { id, name: spec.name, required: spec.required },
      (spec.options || []).map((o) => h('option', { value: o.value, selected: String(o.value) === String(spec.value ?? '') }, o.label)));
  } else if (spec.type === 'textarea') {
    input = h('textarea', { id, name: spec.name, rows: spec.rows || 4, required: spec.required, placeholder: spec.placeholder, spellcheck: 'false' });
    input.value = spec.value ?? '';
  } else if (spec.type === 'checkbox') {
    input = h('input', { id, name: spec.name, type: 'checkbox', checked: !!spec.value });
  } else {
    input = h('input', { id, name: spec.name, type: spec.type || 'text', value: spec.value ?? '', required: spec.required,
      placeholder: spec.placeholder, autocomplete: spec.autocomplete || 'off', inputmode: spec.inputmode });
  }
  const help = spec.help ? h('small', { id: `${id}-help` }, spec.help) : null;
  if (help) input.setAttribute('aria-describedby', help.id);
  const cls = spec.type === 'checkbox' ? 'field check' : 'field';
  return h('div', { class: cls }, h('label', { for: id }, spec.label), input, help);
}

// form builds a form of fields; onSubmit gets {name: value} (checkboxes as booleans).
export function form(legend, fields, submitLabel, onSubmit, extra = []) {
  const f = h('form', { class: 'card', novalidate: false },
    h('fieldset', {}, h('legend', {}, legend), fields.map(field)),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, submitLabel), extra));
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const values = {};
    for (const el of f.elements) {
      if (!el.name) continue;
      values[el.name] = el.type === 'checkbox' ? el.checked : el.value.trim();
    }
    const btn = f.querySelector('button[type=submit]');
    btn.disabled = true;
    try { await onSubmit(values, f); } catch (e) { say(errorText(e), 'error'); } finally { btn.disabled = false; }
  });
  return f;
}

// button is a plain button with a handler that reports failures.
export function button(label, onClick, attrs = {}) {
  return h('button', { type: 'button', ...attrs, onclick: async (ev) => {
    const b = ev.currentTarget;
    b.disabled = true;
    try { await onClick(ev); } catch (e) { say(errorText(e), 'error'); } finally { b.disabled = false; }
  } }, label);
}

export const when = (ms) => (ms ? new Date(ms).toLocaleString() : '');

// pretty is indented JSON.
export const pretty = (v) => JSON.stringify(v, null, 2);
