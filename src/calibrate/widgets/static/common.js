// Shared by calibrate's widgets (the scoring form, the facilitator's screens). Put in front of
// each widget's own module by calibrate.widgets._common.esm(), so these are plain functions
// in the same module scope: building elements, radio groups (role=radiogroup/radio,
// aria-checked, roving focus: Tab reaches the group, arrows choose), rubric descriptor cells.

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// the mark beside a choice: a circle, a check when chosen (drawn by common.css)
function mark_() { return h("span", { class: "cal-mark", "aria-hidden": "true" }); }

function calRadios(g) { return Array.from(g.querySelectorAll('[role="radio"]')); }

// show `value` as the chosen option; the chosen one (else the first) is the group's Tab stop
function calMark(g, value) {
  const rs = calRadios(g);
  let focusable = null;
  for (const r of rs) {
    const on = r.dataset.value === value;
    r.setAttribute("aria-checked", on ? "true" : "false");
    if (on) focusable = r;
  }
  for (const r of rs) r.setAttribute("tabindex", r === (focusable || rs[0]) ? "0" : "-1");
}

function calCheckedValue(g) {
  const r = calRadios(g).find((x) => x.getAttribute("aria-checked") === "true");
  return r ? r.dataset.value : null;
}

function calFocusGroup(g) {
  const rs = calRadios(g);
  const r = rs.find((x) => x.getAttribute("tabindex") === "0") || rs[0];
  if (r) { r.focus(); r.scrollIntoView({ block: "nearest" }); }
}

// A radio group. `options`: [{value, label} | {value, el}] (el: a ready-made button, e.g. a
// rubric cell). onChoose(value, button) runs on click and on arrow keys (which move the
// choice, as in native radio buttons); onKey(event, radios) sees the other keys.
function calRadioGroup({ item, labelledby, options, cls = "cal-choice", onChoose, onKey = null }) {
  const g = h("div", { class: cls, role: "radiogroup", "aria-labelledby": labelledby, "data-item": item });
  for (const opt of options) {
    const b = opt.el || h("button", { type: "button", class: "cal-option" }, mark_(), opt.label);
    b.setAttribute("type", "button");
    b.setAttribute("role", "radio");
    b.setAttribute("aria-checked", "false");
    b.setAttribute("tabindex", "-1");
    b.dataset.value = opt.value;
    b.addEventListener("click", () => onChoose(opt.value, b));
    g.append(b);
  }
  g.addEventListener("keydown", (e) => {
    const rs = calRadios(g);
    const i = rs.indexOf(document.activeElement);
    if (i < 0) return;
    let j = null;
    if (e.key === "ArrowRight" || e.key === "ArrowDown") j = (i + 1) % rs.length;
    else if (e.key === "ArrowLeft" || e.key === "ArrowUp") j = (i - 1 + rs.length) % rs.length;
    else if (e.key === "Home") j = 0;
    else if (e.key === "End") j = rs.length - 1;
    if (j !== null) {
      e.preventDefault();
      onChoose(rs[j].dataset.value, rs[j]);
      return;
    }
    if (onKey) onKey(e, rs);
  });
  calMark(g, null);
  return g;
}

// A rubric descriptor cell (a level or a phase): its name and descriptor are the click target.
function calCell({ nameId, textId, name, text, unnamed = false }) {
  return h("button", { class: "cal-cell", "aria-labelledby": nameId, "aria-describedby": text ? textId : null },
    h("span", { class: "cal-cell-name" }, mark_(), h("span", { id: nameId, text: name })),
    text ? h("span", { class: "cal-cell-text" + (unnamed ? " cal-unnamed" : ""), id: textId, text }) : null);
}

// A grid of descriptor cells as one radio group (`row.cells`: [{value, name, text, unnamed}]).
function calCellGroup({ idPrefix, item, labelledby, cells, onChoose, onKey = null }) {
  const opts = cells.map((c, k) => ({
    value: c.value,
    el: calCell({ nameId: `${idPrefix}c-${item}-${k}`, textId: `${idPrefix}d-${item}-${k}`, name: c.name,
      text: c.text, unnamed: c.unnamed }),
  }));
  const g = calRadioGroup({ item, labelledby, options: opts, cls: "cal-cells", onChoose, onKey });
  g.style.setProperty("--cal-cols", String(Math.min(cells.length, 6)));
  return g;
}
