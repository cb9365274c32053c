// The scoring form in the browser (calibrate.widgets.scoring.ScoringWidget).
// Renders `spec` once, updates from `state`, and sends the assessor's changes to the kernel:
// {type: "value" | "note" | "autosave" | "save" | "case" | "hello"}. Every change is saved by
// itself within 2 s (notes are sent while typing, throttled); the page warns before it closes
// with something unsaved. Radio groups: role=radiogroup/radio, aria-checked, roving focus
// (built with common.js, which _common.esm() puts in front of this file).

const NOTE_THROTTLE_MS = 400;   // a note is sent at most this often while typing
const QUIET_MS = 700;           // autosave this long after the last change ...
const MAX_WAIT_MS = 1700;       // ... but never later than this after the first unsaved one
const RETRY_MS = 8000;          // after a failed save, try again
const KEYS_PREF = "calibrate.shortcuts";

let counter = 0;

function shortcutsOn() {
  try { return window.localStorage.getItem(KEYS_PREF) !== "off"; } catch (e) { return true; }
}

function render({ model, el }) {
  const uid = `cal${++counter}-`;
  const spec = model.get("spec");
  const T = spec.text;
  const groups = new Map();      // item -> radiogroup element
  const notes = new Map();       // item -> input/textarea
  const counts = new Map();      // section/dimension id -> count span
  const sectionEls = new Map();  // section id -> element
  const sectionBtns = new Map(); // section id -> nav button
  const itemSection = new Map(); // item -> section id
  const local = {                // what the kernel has not confirmed yet
    values: new Map(), notesSent: new Map(), noteTimers: new Map(),
    firstChange: 0, timer: null, waitingSave: false, retry: null,
  };
  let helloSeen = model.get("state").hello || 0;
  let ready = false;
  let currentCase = null;
  let currentSection = null;

  for (const sec of spec.sections) for (const it of sec.items) itemSection.set(it, sec.id);
  if (spec.motivation_item) itemSection.set(spec.motivation_item, "besluit");

  // ------------------------------------------------------------------ saving
  function unsaved() {
    return local.values.size > 0 || local.noteTimers.size > 0 || local.timer !== null || local.waitingSave ||
      !!model.get("state").dirty;
  }
  function send(msg) { model.send(msg); }
  function changed() {
    const now = Date.now();
    if (!local.firstChange) local.firstChange = now;
    clearTimeout(local.timer);
    const due = Math.min(now + QUIET_MS, local.firstChange + MAX_WAIT_MS);
    local.timer = setTimeout(autosave, Math.max(0, due - now));
    setStatus("pending", T.pending);
  }
  function flushNotes() {
    for (const [item, t] of local.noteTimers) { clearTimeout(t); sendNote(item); }
    local.noteTimers.clear();
  }
  function autosave() {
    clearTimeout(local.timer);
    local.timer = null;
    flushNotes();
    local.firstChange = 0;
    local.waitingSave = true;
    send({ type: "autosave" });
  }
  function saveNow() {
    clearTimeout(local.timer);
    local.timer = null;
    flushNotes();
    local.firstChange = 0;
    local.waitingSave = true;
    setStatus("pending", T.saving);
    send({ type: "save" });
  }
  function sendNote(item) {
    const input = notes.get(item);
    if (!input) return;
    local.notesSent.set(item, input.value);
    send({ type: "note", item, text: input.value });
  }
  // With something unsaved: save it now (the connection is still open) and ask the browser to
  // confirm leaving. Under calibrate's Voilà template this runs as a guard registered before
  // Voilà's own handler, which would shut the kernel down (so "stay on this page" would leave
  // a dead form); elsewhere (JupyterLab) as an ordinary listener.
  function guard() {
    if (!unsaved()) return false;
    try { autosave(); } catch (err) { console.error("calibrate: saving on leaving failed", err); }
    return true;
  }
  function onBeforeUnload(e) {
    if (!guard()) return undefined;
    e.preventDefault();
    e.returnValue = T.unsaved_warning;
    return T.unsaved_warning;
  }
  function onHidden() {
    if (document.visibilityState === "hidden" && unsaved()) autosave();
  }
  const guards = window.calibrateUnloadGuards;
  if (Array.isArray(guards)) guards.push(guard); else window.addEventListener("beforeunload", onBeforeUnload);
  document.addEventListener("visibilitychange", onHidden);

  // ------------------------------------------------------------------ radio groups
  function radioGroup(item, labelledby, options, cls = "cal-choice") {
    const g = calRadioGroup({ item, labelledby, options, cls, onChoose: (value, b) => choose(item, value, b),
      onKey: (e, rs) => onShortcut(e, g, rs) });
    groups.set(item, g);
    return g;
  }
  function choose(item, value, button) {
    const g = groups.get(item);
    calMark(g, value);
    if (button) button.focus();
    local.values.set(item, value);
    send({ type: "value", item, value });
    changed();
  }
  function nextGroup(g) {
    const all = Array.from(el.querySelectorAll('[role="radiogroup"]')).filter((x) => x.offsetParent !== null);
    return all[all.indexOf(g) + 1] || null;
  }
  // 1, 2, 3 ... choose that option and go on to the next question (switchable off, WCAG 2.1.4)
  function onShortcut(e, g, rs) {
    if (shortcutsOn() && !e.ctrlKey && !e.metaKey && !e.altKey && /^[1-9]$/.test(e.key)) {
      const k = Number(e.key) - 1;
      if (k < rs.length) {
        e.preventDefault();
        choose(g.dataset.item, rs[k].dataset.value, rs[k]);
        const n = nextGroup(g);
        if (n) calFocusGroup(n);
      }
    }
  }

  // ------------------------------------------------------------------ building
  function noteInput(item, label, placeholder, multiline = false) {
    const id = `${uid}note-${item}`;
    // a one-line text area that grows: a long placeholder or note wraps instead of being cut off
    const input = h("textarea", { class: multiline ? "cal-note cal-note-long" : "cal-note cal-note-line", id,
      "aria-label": label, placeholder, rows: multiline ? 5 : 1 });
    input.addEventListener("input", () => {
      if (!local.noteTimers.has(item)) {
        local.noteTimers.set(item, setTimeout(() => { local.noteTimers.delete(item); sendNote(item); }, NOTE_THROTTLE_MS));
      }
      changed();
    });
    input.addEventListener("blur", () => {
      if (local.noteTimers.has(item)) { clearTimeout(local.noteTimers.get(item)); local.noteTimers.delete(item); }
      if (input.value !== (local.notesSent.get(item) ?? (model.get("state").notes || {})[item] ?? "")) sendNote(item);
    });
    notes.set(item, input);
    return input;
  }
  function disclosure(title, countId, panel, { expanded = true, plain = false } = {}) {
    const pid = `${uid}panel-${counter++}`;
    panel.id = pid;
    const b = h("button", { type: "button", class: "cal-disclosure" + (plain ? " cal-disclosure-plain" : ""),
      "aria-expanded": expanded ? "true" : "false", "aria-controls": pid }, mark_(), title);
    if (countId) { const c = h("span", { class: "cal-count" }); counts.set(countId, c); b.append(c); }
    panel.hidden = !expanded;
    b.addEventListener("click", () => {
      const open = b.getAttribute("aria-expanded") !== "true";
      b.setAttribute("aria-expanded", open ? "true" : "false");
      panel.hidden = !open;
    });
    return b;
  }
  function rubricBlock(block) {
    const wrap = h("div", { class: "cal-rubric" });
    const hid = `${uid}h-${block.id}`;
    wrap.append(h("h4", { id: hid, text: block.title }));
    if (block.intro) wrap.append(h("p", { class: "cal-muted", text: block.intro }));
    for (const row of block.rows) {
      const lid = `${uid}l-${row.item}`;
      const r = h("div", { class: "cal-rubric-row", "data-row": row.item });
      r.append(h("div", { class: "cal-rubric-label", id: lid, text: row.label }));
      const g = calCellGroup({ idPrefix: uid, item: row.item, labelledby: lid, cells: row.cells,
        onChoose: (value, b) => choose(row.item, value, b), onKey: (e, rs) => onShortcut(e, g, rs) });
      groups.set(row.item, g);
      r.append(g);
      if (row.note_label) {
        r.append(h("div", { class: "cal-row cal-rubric-note" },
          noteInput(row.item, `${row.note_label} — ${row.label}`, row.note_label)));
      }
      wrap.append(r);
    }
    return wrap;
  }
  function sectionEl(sec) {
    const s = h("section", { class: "cal-section", "aria-labelledby": `${uid}s-${sec.id}`, "data-section": sec.id });
    s.append(h("h3", { id: `${uid}s-${sec.id}` }, sec.title, sec.subtitle ? h("span", { class: "cal-muted", text: ` — ${sec.subtitle}` }) : null));
    if (sec.description) {
      const p = h("div", { class: "cal-panel" }, h("p", { text: sec.description }),
        sec.description_note ? h("p", { class: "cal-muted" }, h("em", { text: sec.description_note })) : null);
      s.append(disclosure(T.description, null, p, { expanded: false, plain: true }), p);
    }
    for (const block of sec.blocks) {
      if (block.type === "dimension") {
        const panel = h("div", { class: "cal-panel" });
        for (const ind of block.indicators) {
          const tid = `${uid}t-${ind.item}`;
          const opts = spec.indicator_choices.map((v) => ({ value: v, label: v }));
          panel.append(h("div", { class: "cal-indicator", "data-row": ind.item },
            h("div", { class: "cal-indicator-text", id: tid, text: `${ind.n}. ${ind.text}` }),
            h("div", { class: "cal-row" }, radioGroup(ind.item, tid, opts),
              noteInput(ind.item, `${T.note_for} ${block.title}, indicator ${ind.n}`, T.note_placeholder))));
        }
        s.append(h("h4", {}, disclosure(block.title, block.id, panel)), panel);
      } else if (block.type === "shown") {
        const panel = h("div", { class: "cal-panel" }, h("p", {}, h("em", { text: block.note })),
          h("ul", {}, block.texts.map((t) => h("li", { text: t }))));
        s.append(h("h4", {}, disclosure(block.title, null, panel, { expanded: false })), panel);
      } else if (block.type === "rubric") {
        s.append(rubricBlock(block));
      } else if (block.type === "verdict" || block.type === "decision") {
        const lid = `${uid}l-${block.item}`;
        const wrap = h("div", { class: "cal-rubric-row", "data-row": block.item }, h("h4", { id: lid, text: block.title }));
        if (block.quote) wrap.append(h("p", { class: "cal-quote", text: `\u201c${block.quote}\u201d` }));
        if (block.type === "decision") { const hint = h("p", { class: "cal-hint" }); wrap.append(hint); counts.set("decision_hint", hint); }
        const row = h("div", { class: "cal-row" }, radioGroup(block.item, lid, block.choices.map((v) => ({ value: v, label: v }))));
        if (block.note_label) row.append(noteInput(block.item, `${block.note_label} — ${block.title}`, block.note_label));
        wrap.append(row);
        s.append(wrap);
      } else if (block.type === "motivation") {
        const lid = `${uid}l-${block.item}-mot`;
        s.append(h("div", { class: "cal-rubric-row", "data-row": `${block.item}#motivation` },
          h("h4", { id: lid }, h("label", { for: `${uid}note-${block.item}`, text: T.motivation })),
          noteInput(block.item, T.motivation, T.motivation_placeholder, true)));
        notes.get(block.item).removeAttribute("aria-label");
      } else if (block.type === "formative") {
        s.append(h("p", {}, h("em", { text: block.text })));
      }
    }
    return s;
  }

  // skeleton
  const root = h("div", { class: "calibrate-app", lang: "nl" });
  const sessionLine = [spec.session.title, spec.session.date].filter(Boolean).join(" \u2014 ");
  const progress = h("span", { class: "cal-progress" });
  root.append(h("header", { class: "cal-head" },
    h("h2", { text: sessionLine }),
    h("p", {}, `Beoordelaar `, h("b", { text: spec.session.rater }), ` \u00b7 Sessie ${spec.session.id} \u00b7 Voortgang: `, progress),
    h("p", { class: "cal-blind", text: spec.session.blind })));
  const select = h("select", { id: `${uid}case` });
  const prev = h("button", { type: "button", class: "cal-btn", text: `\u2190 ${T.prev_case}` });
  const next = h("button", { type: "button", class: "cal-btn", text: `${T.next_case} \u2192` });
  root.append(h("nav", { class: "cal-cases", "aria-label": T.cases_nav }, prev,
    h("span", { class: "cal-case-pick" }, h("label", { for: `${uid}case`, text: T.case }), select), next));
  const material = h("section", { class: "cal-material", "aria-labelledby": `${uid}mat` });
  root.append(material);
  const keysToggle = h("button", { type: "button", class: "cal-btn cal-toggle", "aria-pressed": shortcutsOn() ? "true" : "false" }, mark_(), T.shortcuts);
  const keysText = h("p", { id: `${uid}keys` });
  root.append(h("div", { class: "cal-keys" }, keysText, keysToggle));
  const nav = h("ul");
  root.append(h("nav", { class: "cal-sections", "aria-label": T.sections_nav }, nav));
  const body = h("div", { class: "cal-body" });
  root.append(body);
  const check = h("section", { class: "cal-check", "aria-label": `${T.missing} / ${T.nudges}` });
  root.append(check);
  const saveBtn = h("button", { type: "button", class: "cal-btn cal-btn-primary cal-save", text: T.save });
  const status = h("span", { class: "cal-status", role: "status", "aria-live": "polite" });
  root.append(h("div", { class: "cal-savebar" }, saveBtn, status));
  const loading = h("p", { class: "cal-loading", role: "status", text: T.loading });

  for (const sec of spec.sections) {
    const c = h("span", { class: "cal-count" });
    counts.set(sec.id, c);
    const b = h("button", { type: "button", "aria-current": "false", "aria-controls": `${uid}sec-${sec.id}` }, mark_(), sec.title, c);
    b.addEventListener("click", () => showSection(sec.id, true));
    sectionBtns.set(sec.id, b);
    nav.append(h("li", {}, b));
    const s = sectionEl(sec);
    s.id = `${uid}sec-${sec.id}`;
    s.hidden = true;
    sectionEls.set(sec.id, s);
    body.append(s);
  }

  function showSection(id, focus = false) {
    currentSection = id;
    for (const [k, s] of sectionEls) s.hidden = k !== id;
    for (const [k, b] of sectionBtns) b.setAttribute("aria-current", k === id ? "true" : "false");
    if (focus) {
      const g = sectionEls.get(id).querySelector('[role="radiogroup"], textarea');
      sectionEls.get(id).scrollIntoView({ block: "start" });
      if (g && g.matches('[role="radiogroup"]')) calFocusGroup(g); else if (g) g.focus();
    }
  }
  function jump(item, motivation = false) {
    const sid = itemSection.get(item) || (item === spec.motivation_item ? "besluit" : null);
    if (!sid) return;
    showSection(sid);
    const target = (motivation || (item === spec.motivation_item && !groups.has(item))) ? notes.get(item) : (groups.get(item) || notes.get(item));
    if (!target) return;
    const panel = target.closest(".cal-panel[hidden]");
    if (panel) { const b = el.querySelector(`[aria-controls="${panel.id}"]`); if (b) b.click(); }
    target.scrollIntoView({ block: "center" });
    if (target.matches('[role="radiogroup"]')) calFocusGroup(target); else target.focus();
  }

  prev.addEventListener("click", () => moveCase(-1));
  next.addEventListener("click", () => moveCase(1));
  select.addEventListener("change", () => openCase(select.value));
  saveBtn.addEventListener("click", saveNow);
  keysToggle.addEventListener("click", () => {
    const on = !shortcutsOn();
    try { window.localStorage.setItem(KEYS_PREF, on ? "on" : "off"); } catch (e) { /* private mode */ }
    keysToggle.setAttribute("aria-pressed", on ? "true" : "false");
    keysText.textContent = on ? T.shortcuts_legend : T.shortcuts_off;
  });
  keysText.textContent = shortcutsOn() ? T.shortcuts_legend : T.shortcuts_off;
  root.addEventListener("keydown", (e) => {
    if (shortcutsOn() && (e.ctrlKey || e.metaKey) && !e.altKey && (e.key === "s" || e.key === "S")) {
      e.preventDefault();
      saveNow();
    }
  });

  function moveCase(step) {
    const ids = spec.cases.map((c) => c.id);
    const k = ids.indexOf(currentCase) + step;
    if (k >= 0 && k < ids.length) openCase(ids[k]);
  }
  function openCase(id) {
    if (!id || id === currentCase) return;
    flushNotes();
    clearTimeout(local.timer);
    local.timer = null;
    local.firstChange = 0;
    local.waitingSave = true;
    setStatus("pending", T.saving);
    send({ type: "case", case: id });
  }

  function setStatus(kind, text) {
    status.dataset.kind = kind;
    status.textContent = text;
  }

  // ------------------------------------------------------------------ updating from the kernel
  function update() {
    const st = model.get("state");
    if (!ready) {
      if ((st.hello || 0) <= helloSeen) return;  // wait for the kernel's fresh state
      ready = true;
      loading.remove();
      root.hidden = false;
    }
    const caseChanged = st.case !== currentCase;
    currentCase = st.case;
    // cases
    const labels = spec.cases.map((c) => `${c.id} \u2014 ${c.title}${st.done && st.done[c.id] ? " \u2713 compleet" : ""}`);
    const key = labels.join("|") + "#" + st.case;
    if (select.dataset.key !== key) {
      select.dataset.key = key;
      select.replaceChildren(...spec.cases.map((c, k) => h("option", { value: c.id, selected: c.id === st.case }, labels[k])));
    }
    const ids = spec.cases.map((c) => c.id);
    prev.disabled = ids.indexOf(st.case) <= 0;
    next.disabled = ids.indexOf(st.case) < 0 || ids.indexOf(st.case) >= ids.length - 1;
    progress.textContent = st.progress || "";
    if (caseChanged) {
      local.values.clear();
      local.notesSent.clear();
      material.replaceChildren(...[
        h("h3", { id: `${uid}mat`, text: st.case ? `${st.case} \u2014 ${st.case_title || ""}` : T.no_cases }),
        st.case_text ? h("p", { text: st.case_text }) : null,
        st.material ? h("p", {}, `${T.material}: `, h("a", { href: st.material, target: "_blank", rel: "noopener", text: st.material })) : null,
      ].filter(Boolean));
    }
    // values: the kernel's, unless a newer local choice is on its way
    const values = st.values || {};
    for (const [item, g] of groups) {
      const v = values[item] ?? null;
      if (local.values.has(item)) {
        if (local.values.get(item) === v) local.values.delete(item); else continue;
      }
      calMark(g, v);
    }
    const ns = st.notes || {};
    for (const [item, input] of notes) {
      const v = ns[item] ?? "";
      if (caseChanged) { input.value = v; continue; }
      if (document.activeElement === input || local.noteTimers.has(item)) continue;
      if (local.notesSent.has(item) && local.notesSent.get(item) !== v) continue;
      local.notesSent.delete(item);
      if (input.value !== v) input.value = v;
    }
    // counts
    for (const [id, span] of counts) {
      if (id === "decision_hint") { span.textContent = st.decision_hint || ""; continue; }
      const c = (st.counts || {})[id];
      span.textContent = c ? `${c[0]}/${c[1]}` : "";
      span.classList.toggle("cal-full", !!c && c[0] === c[1] && c[1] > 0);
    }
    // missing and nudges
    const parts = [];
    if (st.case) {
      if (!(st.missing || []).length) parts.push(h("p", { class: "cal-complete", text: T.complete }));
      else {
        parts.push(h("h3", {}, `${T.missing} `, h("span", { class: "cal-muted", text: `(${st.case_progress})` })));
        parts.push(h("ul", {}, st.missing.map(([text, item]) => h("li", {}, text, " ",
          h("button", { type: "button", class: "cal-link", "aria-label": `${T.go_to}: ${spec.labels[item] || text}`, onclick: () => jump(item), text: T.go_to })))));
      }
      if ((st.nudges || []).length) {
        parts.push(h("div", { class: "cal-nudges" }, h("h3", { text: T.nudges }), h("p", { class: "cal-muted", text: T.nudges_hint }),
          h("ul", {}, st.nudges.map((n) => h("li", {}, n.text, " ",
            [n.item, ...(n.kind === "verdict_phases" ? n.related.filter((r) => r.startsWith("fase.")).slice(0, 1) : [])].filter(Boolean).map((it) =>
              h("button", { type: "button", class: "cal-link", onclick: () => jump(it, n.kind === "global_phrase" || n.kind === "motivation"),
                text: `${T.go_to} ${(spec.labels[it] || it).replace(/^./, (c) => c.toLowerCase())}` })))))));
      }
    }
    check.replaceChildren(...parts.filter(Boolean));
    // status
    const s = st.status || {};
    if (s.kind !== "pending") local.waitingSave = false;
    if (s.kind === "error") {
      clearTimeout(local.retry);
      local.retry = setTimeout(() => { if (unsaved()) autosave(); }, RETRY_MS);
    }
    if (!(s.kind === "saved" && (local.timer || local.noteTimers.size))) setStatus(s.kind || "idle", s.text || "");
    if (caseChanged || (st.start_item && !currentSection)) {
      const start = st.start_item && itemSection.get(st.start_item);
      showSection(start || (currentSection || spec.sections[0].id));
      if (start && caseChanged && st.start_item) {
        const row = el.querySelector(`[data-row="${CSS.escape(st.start_item)}"]`);
        if (row) requestAnimationFrame(() => row.scrollIntoView({ block: "center" }));
      }
    }
  }

  root.hidden = true;
  el.append(loading, root);
  model.on("change:state", update);
  send({ type: "hello" });
  return () => {
    if (Array.isArray(guards)) guards.splice(guards.indexOf(guard), 1);
    else window.removeEventListener("beforeunload", onBeforeUnload);
    document.removeEventListener("visibilitychange", onHidden);
    clearTimeout(local.timer);
    clearTimeout(local.retry);
    model.off("change:state", update);
  };
}

export default { render };
