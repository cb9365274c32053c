// The facilitator's screens in the browser (calibrate.widgets.facilitator.FacilitatorWidget).
// Renders `state` and sends the facilitator's actions to the kernel. Nothing here changes the
// store by itself: buttons send {type: "create" | "reveal" | "rescore" | "adopt"}, the kernel
// answers with a confirmation (state.confirm) and acts only on {type: "confirm"}; a consensus
// is stored only by its own "Consensus vastleggen" button. Radio groups and descriptor cells
// come from common.js (put in front of this file by _common.esm()).

const REFRESH_MS = 20000;   // the progress screen reads the assessors' counts again this often
let counter = 0;
const NARROW = "(max-width: 40rem)";  // a phone: selects get short labels, so nothing in them is cut

function render({ model, el }) {
  const uid = `fac${++counter}-`;
  const spec = model.get("spec");
  const T = spec.text;
  const send = (msg) => model.send(msg);
  let helloSeen = model.get("state").hello || 0;
  let ready = false;
  let st = {};
  const drafts = new Map();      // `${case}|${item}` -> {value, reason}: chosen but not yet recorded
  let showAll = false;           // also the items everyone agreed on
  let confirmToken = null;
  const narrowQuery = window.matchMedia ? window.matchMedia(NARROW) : null;
  const narrow = () => !!(narrowQuery && narrowQuery.matches);

  // ------------------------------------------------------------------ skeleton
  const root = h("div", { class: "calibrate-app cal-facil", lang: "nl" });
  const loading = h("p", { class: "cal-loading", role: "status", text: T.loading });
  const title = h("h2", {});
  const subtitle = h("p", { class: "cal-muted cal-subtitle" });
  const sessionSelect = h("select", { id: `${uid}session` });
  const presentBtn = h("button", { type: "button", class: "cal-btn cal-toggle", "aria-pressed": "false" }, mark_(),
    h("span", { text: T.present }));
  root.append(h("header", { class: "cal-head" },
    h("div", { class: "cal-head-row" }, h("div", { class: "cal-head-title" }, title, subtitle), presentBtn),
    h("div", { class: "cal-session-pick cal-edit" }, h("label", { for: `${uid}session`, text: T.session }), sessionSelect)));
  const presentHint = h("p", { class: "cal-present-hint", text: T.present_hint });
  root.append(presentHint);
  const navBtns = new Map();
  root.append(h("nav", { class: "cal-screens cal-edit", "aria-label": T.screens_nav },
    h("ul", {}, spec.screens.map((s, k) => {
      const b = h("button", { type: "button", "aria-current": "false", "data-screen": s }, mark_(), `${k + 1}. ${T["screen_" + s]}`);
      b.addEventListener("click", () => send({ type: "screen", screen: s }));
      navBtns.set(s, b);
      return h("li", {}, b);
    }))));

  const screens = new Map();
  const msgs = new Map();
  const confirms = new Map();
  for (const s of spec.screens) {
    const sec = h("section", { class: "cal-screen", "data-screen": s, "aria-labelledby": `${uid}h-${s}` });
    const msg = h("div", { class: "cal-msg", role: "status", "aria-live": "polite" });
    const conf = h("div", { class: "cal-confirm-area" });
    screens.set(s, sec);
    msgs.set(s, msg);
    confirms.set(s, conf);
    root.append(sec);
  }

  sessionSelect.addEventListener("change", () => send({ type: "session", session: sessionSelect.value }));
  presentBtn.addEventListener("click", () => {
    const on = !st.present;
    try {
      if (on && document.documentElement.requestFullscreen && !document.fullscreenElement) {
        document.documentElement.requestFullscreen().catch(() => {});
      } else if (!on && document.fullscreenElement) {
        document.exitFullscreen().catch(() => {});
      }
    } catch (err) { /* full screen is a nicety */ }
    send({ type: "present", on });
  });

  // ------------------------------------------------------------------ small parts
  function field(id, label, input, hint) {
    const hid = hint ? `${id}-hint` : null;
    if (hid) input.setAttribute("aria-describedby", hid);
    input.id = id;
    return h("div", { class: "cal-field" }, h("label", { for: id, text: label }), input,
      hint ? h("p", { class: "cal-hint cal-muted", id: hid, text: hint }) : null);
  }

  // A list of checkboxes with a search box: nothing needs Ctrl-click.
  function checklist({ key, legend, searchLabel, checkedByDefault = false }) {
    const list = h("ul", { class: "cal-checklist" });
    const count = h("span", { class: "cal-chosen", "aria-live": "polite" });
    const search = h("input", { type: "search", class: "cal-search", "aria-label": searchLabel, placeholder: searchLabel });
    const none = h("p", { class: "cal-muted", text: T.none_found, hidden: true });
    const all = h("button", { type: "button", class: "cal-btn cal-small", text: T.select_shown });
    const clear = h("button", { type: "button", class: "cal-btn cal-small", text: T.select_none });
    const box = h("fieldset", { class: "cal-fieldset", "data-list": key },
      h("legend", {}, legend, " ", count), h("div", { class: "cal-row" }, search, all, clear), none, list);
    let dataKey = null;
    const boxes = new Map();
    function counted() {
      const n = Array.from(boxes.values()).filter((b) => b.checked).length;
      count.textContent = `(${n} ${T.chosen})`;
    }
    function filter() {
      const q = search.value.trim().toLowerCase();
      let shown = 0;
      for (const li of list.children) {
        const hit = !q || li.dataset.search.includes(q);
        li.hidden = !hit;
        if (hit) shown += 1;
      }
      none.hidden = shown > 0;
    }
    function set(items) {
      const k = JSON.stringify(items);
      if (k === dataKey) return;
      dataKey = k;
      const before = new Map(Array.from(boxes, ([id, b]) => [id, b.checked]));
      boxes.clear();
      list.replaceChildren(...items.map((it) => {
        const id = `${uid}${key}-${it.id}`;
        const cb = h("input", { type: "checkbox", id, value: it.id });
        cb.checked = before.has(it.id) ? before.get(it.id) : checkedByDefault;
        cb.addEventListener("change", counted);
        boxes.set(it.id, cb);
        return h("li", { "data-search": `${it.id} ${it.main || ""} ${it.sub || ""}`.toLowerCase() },
          h("label", { for: id }, cb, h("span", { class: "cal-check-text" }, h("b", { text: it.id }),
            it.main ? ` \u2014 ${it.main}` : "", it.sub ? h("span", { class: "cal-muted", text: ` (${it.sub})` }) : null)));
      }));
      counted();
      filter();
    }
    search.addEventListener("input", filter);
    all.addEventListener("click", () => { for (const li of list.children) if (!li.hidden) li.querySelector("input").checked = true; counted(); });
    clear.addEventListener("click", () => { for (const b of boxes.values()) b.checked = false; counted(); });
    return {
      el: box, set,
      selected: () => Array.from(boxes.entries()).filter(([, b]) => b.checked).map(([id]) => id),
      reset: (on) => { for (const b of boxes.values()) b.checked = on; counted(); },
    };
  }

  function renderMsg(screen) {
    const m = (st.messages || {})[screen];
    const box = msgs.get(screen);
    const text = m ? m.text : "";
    if (box.textContent !== text) {
      box.textContent = text;
      box.dataset.kind = m ? m.kind : "";
    }
  }

  function renderConfirm() {
    const c = st.confirm;
    for (const [s, area] of confirms) if (!c || c.screen !== s) area.replaceChildren();
    if (!c) {
      if (confirmToken !== null) {  // answered or cancelled: focus goes to what happened, not to the page's top
        confirmToken = null;
        const msg = msgs.get(st.screen);
        const target = msg && msg.textContent ? msg : screens.get(st.screen).querySelector("h3");
        if (target) { target.setAttribute("tabindex", "-1"); requestAnimationFrame(() => target.focus()); }
      }
      return;
    }
    if (confirmToken === c.token && confirms.get(c.screen).firstChild) return;
    confirmToken = c.token;
    const area = confirms.get(c.screen);
    const hid = `${uid}confirm-${c.token}`;
    const yes = c.ok ? h("button", { type: "button", class: "cal-btn cal-btn-warn", text: c.yes }) : null;
    const no = h("button", { type: "button", class: "cal-btn", text: c.ok ? T.confirm_cancel : T.confirm_back });
    if (yes) yes.addEventListener("click", () => { yes.disabled = true; send({ type: "confirm", action: c.action, token: c.token }); });
    no.addEventListener("click", () => send({ type: "cancel" }));
    const box = h("section", { class: "cal-confirm" + (c.ok ? "" : " cal-confirm-problem"), "aria-labelledby": hid },
      h("h4", { id: hid, tabindex: "-1", text: c.title }),
      c.problems.length ? h("ul", { class: "cal-problems" }, c.problems.map((p) => h("li", { text: p }))) : null,
      h("ul", {}, c.lines.map((l) => h("li", { text: l }))),
      h("div", { class: "cal-row" }, yes, no));
    box.addEventListener("keydown", (e) => { if (e.key === "Escape") { e.preventDefault(); send({ type: "cancel" }); } });
    area.replaceChildren(box);
    requestAnimationFrame(() => { box.scrollIntoView({ block: "nearest" }); box.querySelector("h4").focus(); });
  }

  // ------------------------------------------------------------------ 1. set-up
  const setup = screens.get("setup");
  const newId = h("input", { type: "text", autocomplete: "off" });
  const newDate = h("input", { type: "text", autocomplete: "off", inputmode: "numeric" });
  const newTitle = h("input", { type: "text", autocomplete: "off" });
  const caseList = checklist({ key: "cases", legend: T.cases, searchLabel: T.search_cases });
  const raterList = checklist({ key: "raters", legend: T.raters, searchLabel: T.search_raters });
  const createBtn = h("button", { type: "button", class: "cal-btn cal-btn-primary", text: T.create });
  setup.append(
    h("h3", { id: `${uid}h-setup`, text: T.setup_title }),
    h("p", { class: "cal-muted", text: T.setup_intro }),
    h("div", { class: "cal-fields" },
      field(`${uid}new-id`, T.new_id, newId, T.new_id_hint),
      field(`${uid}new-date`, T.new_date, newDate, T.new_date_hint),
      field(`${uid}new-title`, T.new_title, newTitle, null)),
    h("div", { class: "cal-lists" }, caseList.el, raterList.el),
    h("div", { class: "cal-actions" }, createBtn),
    msgs.get("setup"), confirms.get("setup"));
  createBtn.addEventListener("click", () => send({
    type: "create", session: newId.value, date: newDate.value, title: newTitle.value,
    cases: caseList.selected(), raters: raterList.selected(),
  }));
  let setupSuggested = null;
  function renderSetup() {
    const s = st.setup || {};
    if (setupSuggested !== s.suggest_id) {  // a new suggestion (first time, or a session was created)
      setupSuggested = s.suggest_id;
      newId.value = s.suggest_id || "";
      if (!newDate.value) newDate.value = s.today || "";
      if (st.screen !== "setup") { newTitle.value = ""; caseList.reset(false); raterList.reset(false); }
    }
    caseList.set((s.cases || []).map((c) => ({ id: c.id, main: c.title, sub: c.used.length ? `${T.used_in} ${c.used.join(", ")}` : "" })));
    raterList.set((s.raters || []).map((r) => ({ id: r.id, main: r.label !== r.id ? r.label : "", sub: r.role })));
  }

  // ------------------------------------------------------------------ 2. progress
  const progress = screens.get("progress");
  const progressNotice = h("p", { class: "cal-notice" });
  const progressSummary = h("p", { class: "cal-summary" });
  const progressTable = h("div", { class: "cal-table-wrap" });
  const refreshBtn = h("button", { type: "button", class: "cal-btn cal-edit", text: T.refresh });
  const revealBtn = h("button", { type: "button", class: "cal-btn cal-btn-warn cal-edit", text: T.reveal });
  const toDiscussion = h("button", { type: "button", class: "cal-btn cal-btn-primary cal-edit", text: T.to_discussion });
  progress.append(h("h3", { id: `${uid}h-progress`, text: T.progress_title }), progressNotice, progressSummary,
    progressTable, h("div", { class: "cal-actions" }, refreshBtn, revealBtn, toDiscussion),
    msgs.get("progress"), confirms.get("progress"));
  refreshBtn.addEventListener("click", () => send({ type: "refresh" }));
  revealBtn.addEventListener("click", () => send({ type: "reveal" }));
  toDiscussion.addEventListener("click", () => send({ type: "screen", screen: "discussion" }));
  function renderProgress() {
    const p = st.progress;
    const info = st.info;
    if (!p || !info) { progressNotice.textContent = T.no_sessions; progressSummary.textContent = ""; progressTable.replaceChildren(); revealBtn.hidden = true; toDiscussion.hidden = true; refreshBtn.hidden = true; return; }
    refreshBtn.hidden = false;
    progressNotice.textContent = info.revealed ? T.revealed_note : `${info.notice} ${T.progress_blind}`;
    progressNotice.dataset.kind = info.revealed ? "revealed" : "blind";
    progressSummary.textContent = p.summary;
    const cols = [T.col_rater, T.col_cases, T.col_items, T.col_state, T.col_saved];
    progressTable.replaceChildren(h("table", { class: "cal-table" },
      h("caption", { class: "cal-sr", text: `${T.progress_title} ${info.id}` }),
      h("thead", {}, h("tr", {}, cols.map((c) => h("th", { scope: "col", text: c })))),
      h("tbody", {}, p.rows.map((r) => h("tr", { "data-kind": r.kind },
        h("th", { scope: "row", "data-label": cols[0], text: r.rater }),
        h("td", { "data-label": cols[1], text: `${r.complete} van ${r.total}` }),
        h("td", { "data-label": cols[2], text: `${r.filled} van ${r.assessable}` }),
        h("td", { "data-label": cols[3] }, h("span", { class: "cal-state", "data-kind": r.kind, text: r.state })),
        h("td", { "data-label": cols[4], text: r.saved }))))));
    revealBtn.hidden = info.revealed;
    toDiscussion.hidden = !info.revealed;
  }

  // ------------------------------------------------------------------ 3. discussion
  const discussion = screens.get("discussion");
  const discHead = h("h3", { id: `${uid}h-discussion` });
  const caseSelect = h("select", { id: `${uid}case` });
  const prevCase = h("button", { type: "button", class: "cal-btn", text: `\u2190 ${T.prev_case}` });
  const nextCase = h("button", { type: "button", class: "cal-btn", text: `${T.next_case} \u2192` });
  const caseNav = h("nav", { class: "cal-cases", "aria-label": T.cases_nav }, prevCase,
    h("span", { class: "cal-case-pick" }, h("label", { for: `${uid}case`, text: T.case }), caseSelect), nextCase);
  const caseText = h("div", { class: "cal-panel cal-case-text" });
  const caseTextBtn = h("button", { type: "button", class: "cal-disclosure cal-disclosure-plain", "aria-expanded": "false",
    "aria-controls": `${uid}case-text` }, mark_(), T.case_text);
  caseText.id = `${uid}case-text`;
  caseText.hidden = true;
  caseTextBtn.addEventListener("click", () => {
    const open = caseTextBtn.getAttribute("aria-expanded") !== "true";
    caseTextBtn.setAttribute("aria-expanded", open ? "true" : "false");
    caseText.hidden = !open;
  });
  const discSummary = h("p", { class: "cal-summary" });
  const legend = h("p", { class: "cal-muted cal-legend", text: T.spread_legend });
  const orderLabel = `${uid}order-label`;
  const orderGroup = calRadioGroup({ item: "order", labelledby: orderLabel,
    options: [{ value: "spread", label: T.order_spread }, { value: "kijkkader", label: T.order_kijkkader }],
    onChoose: (value, b) => { calMark(orderGroup, value); b.focus(); send({ type: "order", order: value }); } });
  const allBtn = h("button", { type: "button", class: "cal-btn cal-toggle", "aria-pressed": "false" }, mark_(), T.show_unanimous);
  const adoptBtn = h("button", { type: "button", class: "cal-btn", text: T.adopt });
  const discTools = h("div", { class: "cal-tools cal-edit" },
    h("div", { class: "cal-row" }, h("span", { id: orderLabel, class: "cal-tool-label", text: `${T.order}:` }), orderGroup),
    h("div", { class: "cal-row" }, allBtn, adoptBtn));
  const blindNote = h("p", { class: "cal-notice", "data-kind": "blind", text: T.blind_discussion });
  const items = h("div", { class: "cal-items" });
  discussion.append(discHead, blindNote, caseNav, caseTextBtn, caseText, discSummary, legend, discTools,
    msgs.get("discussion"), confirms.get("discussion"), items);
  caseSelect.addEventListener("change", () => openCase(caseSelect.value));
  prevCase.addEventListener("click", () => moveCase(-1));
  nextCase.addEventListener("click", () => moveCase(1));
  allBtn.addEventListener("click", () => {
    showAll = !showAll;
    allBtn.setAttribute("aria-pressed", showAll ? "true" : "false");
    applyFilter();
  });
  adoptBtn.addEventListener("click", () => { if (st.discussion) send({ type: "adopt", case: st.discussion.case }); });

  function moveCase(step) {
    const d = st.discussion;
    if (!d) return;
    const ids = d.cases.map((c) => c.id);
    const k = ids.indexOf(d.case) + step;
    if (k >= 0 && k < ids.length) openCase(ids[k]);
  }
  function openCase(id) { if (st.discussion && id && id !== st.discussion.case) send({ type: "case", case: id }); }

  let structureKey = null;
  const itemViews = new Map();   // item id -> {el, update}
  const groupViews = [];         // {el, note, items: [ids]}

  function draftKey(item) { return `${st.discussion.case}|${item}`; }

  function itemView(it) {
    const tid = `${uid}t-${it.item}`;
    const clid = `${uid}cl-${it.item}`;
    const art = h("article", { class: `cal-item cal-item-${it.control}`, "data-item": it.item, "aria-labelledby": tid });
    const badge = h("span", { class: "cal-badge" });
    const ref = it.kind === "indicator" ? `Indicator ${it.number}` : null;
    art.append(h("div", { class: "cal-item-head" },
      h("p", { class: "cal-item-text", id: tid }, ref ? h("span", { class: "cal-item-ref", text: `${ref}: ` }) : null, it.label),
      badge));
    if (it.quote) art.append(h("p", { class: "cal-quote", text: `\u201c${it.quote}\u201d` }));
    const dist = h("ul", { class: "cal-counts", "aria-label": `${T.distribution} \u2014 ${it.ref}` });
    const notesBox = h("div", { class: "cal-notes" });
    const agreed = h("p", { class: "cal-agreed" });
    // the consensus, with the scoring form's controls
    const edit = h("div", { class: "cal-consensus cal-edit" });
    art.append(h("div", { class: "cal-item-body" },
      h("div", { class: "cal-item-info" }, h("div", { class: "cal-dist" }, h("p", { class: "cal-sub", text: T.distribution }), dist),
        notesBox, agreed),
      edit));
    const onChoose = (value, b) => {
      calMark(group, value);
      if (b) b.focus();
      const k = draftKey(it.item);
      drafts.set(k, { value, reason: reason.value });
      sync();
    };
    const group = it.control === "cells"
      ? calCellGroup({ idPrefix: uid, item: it.item, labelledby: `${clid} ${tid}`, cells: it.choices, onChoose })
      : calRadioGroup({ item: it.item, labelledby: `${clid} ${tid}`, options: it.choices.map((c) => ({ value: c.value, label: c.name })), onChoose });
    const rid = `${uid}r-${it.item}`;
    const reason = h("textarea", { class: "cal-note cal-note-line", id: rid, rows: 1, placeholder: T.reason_placeholder });
    const record = h("button", { type: "button", class: "cal-btn cal-btn-primary", "aria-describedby": tid, text: T.record });
    const status = h("span", { class: "cal-item-status", role: "status", "aria-live": "polite" });
    edit.append(h("p", { class: "cal-sub", id: clid, text: T.consensus }), group,
      h("div", { class: "cal-reason" }, h("label", { for: rid, text: T.reason }), reason),
      h("div", { class: "cal-row" }, record, status));
    reason.addEventListener("input", () => {
      const k = draftKey(it.item);
      const cur = drafts.get(k);
      drafts.set(k, { value: cur ? cur.value : (calCheckedValue(group) || null), reason: reason.value });
      sync();
    });
    record.addEventListener("click", () => {
      const d = drafts.get(draftKey(it.item));
      const value = d ? d.value : calCheckedValue(group);
      record.disabled = true;
      status.textContent = "Bezig met vastleggen…";
      status.dataset.kind = "pending";
      send({ type: "consensus", case: st.discussion.case, item: it.item, value, reason: reason.value });
    });
    let data = it;
    function sync() {
      const d = drafts.get(draftKey(data.item));
      const stored = { value: data.consensus || null, reason: data.reason || "" };
      const differs = d && d.value && (d.value !== stored.value || (d.reason || "").trim() !== stored.reason.trim());
      record.disabled = !differs;
      const s = ((st.discussion || {}).item_status || {})[data.item];
      if (differs) { status.textContent = T.draft; status.dataset.kind = "pending"; }
      else if (s) { status.textContent = s.text; status.dataset.kind = s.kind; }
      else { status.textContent = ""; status.dataset.kind = ""; }
    }
    function update(next) {
      data = next;
      badge.textContent = next.spread_text;
      badge.dataset.kind = next.disputed ? "disputed" : (next.unanimous ? "unanimous" : "none");
      art.classList.toggle("cal-disputed", next.disputed);
      dist.replaceChildren(...next.counts.filter((c) => c.n || next.kind === "indicator" || next.kind === "verdict" || next.kind === "decision").map((c) =>
        h("li", { class: c.most ? "cal-most" : "" },
          h("span", { class: "cal-count-label", text: c.label }),
          h("span", { class: "cal-count-n", text: String(c.n) }),
          h("span", { class: "cal-bar", "aria-hidden": "true" }, h("span", { style: `width:${Math.round(c.share * 100)}%` })),
          h("span", { class: "cal-count-who", text: c.raters.join(", ") }))));
      notesBox.replaceChildren(h("p", { class: "cal-sub", text: T.notes }),
        next.notes.length ? h("ul", { class: "cal-notelist" }, next.notes.map((n) => h("li", {},
          h("b", { text: n.rater }), n.value ? h("span", { class: "cal-note-value", text: ` (${n.value})` }) : null, ": ",
          h("span", { class: "cal-note-text", text: n.text }))))
          : h("p", { class: "cal-muted", text: T.no_notes }));
      agreed.replaceChildren(...(next.consensus
        ? [h("b", { text: `${T.consensus}: ${next.consensus_label}` }), next.reason ? ` \u2014 ${next.reason}` : ` (${T.no_reason})`]
        : []));
      agreed.hidden = !next.consensus;
      const k = draftKey(next.item);
      const d = drafts.get(k);
      if (d && d.value === (next.consensus || null) && (d.reason || "").trim() === (next.reason || "").trim()) drafts.delete(k);
      const dd = drafts.get(k);
      calMark(group, dd ? dd.value : (next.consensus || null));
      if (document.activeElement !== reason && !dd) reason.value = next.reason || "";
      sync();
    }
    update(it);
    return { el: art, update, item: it, focus: () => { art.scrollIntoView({ block: "center" }); calFocusGroup(group); } };
  }

  // Without "show all": only the items with a difference (and any with a draft). A group with
  // nothing left is named once in its section's line; a section with nothing left keeps only
  // its heading ("0 van 26 met verschil").
  function applyFilter() {
    let hiddenTotal = 0;
    for (const s of sectionViews) {
      const quietGroups = [];
      let visibleInSection = 0;
      for (const g of s.groups) {
        let hidden = 0;
        for (const id of g.items) {
          const v = itemViews.get(id);
          const hide = !showAll && !v.data().disputed && !(st.discussion && drafts.get(draftKey(id)));
          v.el.hidden = hide;
          if (hide) hidden += 1;
        }
        const allHidden = hidden === g.items.length;
        g.el.hidden = allHidden;
        g.note.textContent = hidden && !allHidden ? `Verder ${hidden} ${hidden === 1 ? "onderdeel" : "onderdelen"} zonder verschil (verborgen).` : "";
        g.note.hidden = !g.note.textContent;
        if (allHidden) quietGroups.push(`${g.title} (${hidden})`); else visibleInSection += 1;
        hiddenTotal += hidden;
      }
      s.el.classList.toggle("cal-quiet", visibleInSection === 0);
      s.note.textContent = visibleInSection && quietGroups.length ? `Zonder verschil (verborgen): ${quietGroups.join(", ")}.` : "";
      s.note.hidden = !s.note.textContent;
    }
    return hiddenTotal;
  }

  const sectionViews = [];
  function renderDiscussion() {
    const info = st.info;
    const d = st.discussion;
    const revealed = !!(info && info.revealed);
    blindNote.hidden = revealed;
    for (const x of [caseNav, caseTextBtn, discSummary, legend, discTools, items]) x.hidden = !revealed || !d || !d.case;
    if (!revealed) { caseText.hidden = true; discHead.textContent = T.discussion_title; return; }
    if (!d || !d.case) { discHead.textContent = T.discussion_title; return; }
    discHead.textContent = `${d.case}${d.title ? " \u2014 " + d.title : ""}`;
    const ids = d.cases.map((c) => c.id);
    const pos = ids.indexOf(d.case);
    const labels = d.cases.map((c) => narrow()
      ? `${c.id}${c.open ? ` (nog ${c.open} open)` : " \u2713"}`
      : `${c.id} \u2014 ${c.title}${c.open ? ` (nog ${c.open} open)` : " \u2713 alles vastgelegd"}`);
    const key = labels.join("|") + "#" + d.case;
    if (caseSelect.dataset.key !== key) {
      caseSelect.dataset.key = key;
      caseSelect.replaceChildren(...d.cases.map((c, k) => h("option", { value: c.id, selected: c.id === d.case }, labels[k])));
    }
    prevCase.disabled = pos <= 0;
    nextCase.disabled = pos < 0 || pos >= ids.length - 1;
    caseText.replaceChildren(...(d.text ? [h("p", { text: d.text })] : []));
    caseTextBtn.hidden = !d.text;
    discSummary.textContent = `${st.present ? `Casus ${pos + 1} van ${ids.length} \u00b7 ` : ""}${d.summary}`;
    calMark(orderGroup, d.order);
    const skey = `${st.session}|${d.case}|${d.order}|` + d.sections.map((s) => s.groups.map((g) => g.items.map((i) => i.item).join(",")).join(";")).join("/");
    if (skey !== structureKey) {
      structureKey = skey;
      itemViews.clear();
      groupViews.length = 0;
      sectionViews.length = 0;
      const out = [];
      for (const sec of d.sections) {
        const shid = `${uid}s-${sec.id}`;
        const sel = h("section", { class: "cal-dsection", "aria-labelledby": shid },
          h("h4", { id: shid }, sec.title, h("span", { class: "cal-muted cal-count-text", text: ` \u2014 ${sec.n_disputed} van ${sec.n_items} met verschil` })));
        const snote = h("p", { class: "cal-muted cal-hidden-note" });
        const sv = { el: sel, groups: [], note: snote };
        for (const g of sec.groups) {
          const ghid = `${uid}g-${g.id}`;
          const note = h("p", { class: "cal-muted cal-hidden-note" });
          const gel = h("div", { class: "cal-dgroup", role: "group", "aria-labelledby": ghid }, h("h5", { id: ghid, text: g.title }));
          const gv = { el: gel, note, items: [] };
          for (const it of g.items) {
            const v = itemView(it);
            let current = it;
            const upd = v.update;
            v.update = (n) => { current = n; upd(n); };
            v.data = () => current;
            itemViews.set(it.item, v);
            gv.items.push(it.item);
            gel.append(v.el);
          }
          gel.append(note);
          groupViews.push(gv);
          sv.groups.push(gv);
          sel.append(gel);
        }
        sel.append(snote);
        sectionViews.push(sv);
        out.push(sel);
      }
      items.replaceChildren(...out);
    } else {
      for (const sec of d.sections) for (const g of sec.groups) for (const it of g.items) itemViews.get(it.item).update(it);
    }
    const hidden = applyFilter();
    if (hidden && !d.sections.some((s) => s.groups.some((g) => g.items.some((i) => i.disputed)))) {
      discSummary.textContent += " \u00b7 geen verschillen in deze casus";
    }
    if (d.focus_item && itemViews.has(d.focus_item) && focusDone !== `${d.case}|${d.focus_item}`) {
      focusDone = `${d.case}|${d.focus_item}`;
      const v = itemViews.get(d.focus_item);
      if (v.el.hidden) { showAll = true; allBtn.setAttribute("aria-pressed", "true"); applyFilter(); }
      requestAnimationFrame(v.focus);
    }
  }
  let focusDone = null;

  // ------------------------------------------------------------------ 4. open
  const openScreen = screens.get("open");
  const openBody = h("div", { class: "cal-open" });
  const rescoreCases = checklist({ key: "rescore-cases", legend: T.cases, searchLabel: T.search_cases, checkedByDefault: true });
  const rescoreRaters = checklist({ key: "rescore-raters", legend: T.raters, searchLabel: T.search_raters, checkedByDefault: true });
  const rescoreBtn = h("button", { type: "button", class: "cal-btn cal-btn-warn", text: T.rescore });
  const rescoreNote = h("p", { class: "cal-muted" });
  const rescoreBox = h("section", { class: "cal-rescore cal-edit", "aria-labelledby": `${uid}h-rescore` },
    h("h4", { id: `${uid}h-rescore`, text: T.rescore_title }), rescoreNote,
    h("div", { class: "cal-lists" }, rescoreCases.el, rescoreRaters.el), h("div", { class: "cal-actions" }, rescoreBtn));
  const verslagBtn = h("button", { type: "button", class: "cal-btn", text: T.verslag });
  const verslagLink = h("a", { class: "cal-btn", target: "_blank", rel: "noopener", text: T.verslag_open });
  const verslagBox = h("section", { class: "cal-verslag cal-edit", "aria-labelledby": `${uid}h-verslag` },
    h("h4", { id: `${uid}h-verslag`, text: T.verslag_title }), h("p", { class: "cal-muted", text: T.verslag_intro }),
    h("div", { class: "cal-actions" }, verslagBtn, verslagLink));
  verslagBtn.addEventListener("click", () => send({ type: "verslag" }));
  openScreen.append(h("h3", { id: `${uid}h-open`, text: T.open_title }), msgs.get("open"), openBody, rescoreBox,
    verslagBox, confirms.get("open"));
  rescoreBtn.addEventListener("click", () => send({ type: "rescore", cases: rescoreCases.selected(), raters: rescoreRaters.selected() }));
  let rescoreFor = null;
  function refList(caseId, refs) {
    return h("ul", { class: "cal-reflist" }, refs.map((r) => h("li", {},
      h("span", { text: `${r.ref}` }), h("span", { class: "cal-muted", text: ` \u2014 ${r.section}${r.spread ? ", " + r.spread : ""} ` }),
      h("button", { type: "button", class: "cal-link cal-edit", "aria-label": `${T.go_to}: ${caseId}, ${r.ref}`, text: T.go_to,
        onclick: () => send({ type: "goto", case: caseId, item: r.item }) }))));
  }
  function renderOpen() {
    const o = st.open;
    verslagBox.hidden = !(o && o.revealed);
    verslagLink.hidden = !(o && o.verslag);
    if (o && o.verslag) { verslagLink.setAttribute("href", o.verslag.href); verslagLink.setAttribute("download", o.verslag.name); }
    if (!o) { openBody.replaceChildren(); rescoreBox.hidden = true; return; }
    const parts = [];
    parts.push(h("h4", { text: o.revealed ? T.unfinished_revealed : T.unfinished }));
    parts.push(o.unfinished.length ? h("ul", {}, o.unfinished.map((u) => h("li", {}, h("b", { text: u.rater }), `: ${u.text}`)))
      : h("p", { class: "cal-ok", text: T.all_finished }));
    if (!o.revealed) {
      parts.unshift(h("p", { class: "cal-notice", "data-kind": "blind", text: T.open_blind }));
      openBody.replaceChildren(...parts);
      rescoreBox.hidden = false;
      rescoreNote.textContent = T.rescore_blind;
      rescoreCases.el.hidden = rescoreRaters.el.hidden = rescoreBtn.hidden = true;
      return;
    }
    parts.unshift(h("p", { class: "cal-summary", text: o.summary }));
    for (const c of o.cases) {
      const hid = `${uid}o-${c.case}`;
      const sec = h("section", { class: "cal-open-case" + (c.done ? " cal-done" : ""), "aria-labelledby": hid },
        h("h4", { id: hid }, `${c.case}${c.title ? " \u2014 " + c.title : ""}`,
          h("span", { class: "cal-muted cal-count-text", text: ` \u2014 consensus voor ${c.n_consensus} van ${c.n_items}${c.done ? " \u2713" : ""}` })));
      if (c.disputed.length) {
        sec.append(h("p", { text: `Met verschil en nog zonder consensus: ${c.disputed.length}` }));
        const shown = c.disputed.slice(0, 10);
        sec.append(refList(c.case, shown));
        if (c.disputed.length > shown.length) sec.append(h("p", { class: "cal-muted", text: `\u2026 en nog ${c.disputed.length - shown.length}; zie de bespreking van ${c.case}.` }));
      }
      if (c.n_unanimous) {
        const b = h("button", { type: "button", class: "cal-btn cal-edit", text: T.adopt, "aria-label": `${T.adopt} ${c.case}` });
        b.addEventListener("click", () => send({ type: "adopt", case: c.case }));
        sec.append(h("div", { class: "cal-row" }, h("span", { text: `Eensgezind en nog zonder consensus: ${c.n_unanimous} ${c.n_unanimous === 1 ? "onderdeel" : "onderdelen"}.` }), b));
      }
      if (c.n_unjudged) sec.append(h("p", { text: `Nog niet door minstens twee beoordelaars beoordeeld: ${c.n_unjudged} ${c.n_unjudged === 1 ? "onderdeel" : "onderdelen"}.` }));
      if (c.n_no_reason) {
        sec.append(h("p", { text: `Consensus zonder reden: ${c.n_no_reason}` }));
        sec.append(refList(c.case, c.no_reason));
        if (c.n_no_reason > c.no_reason.length) sec.append(h("p", { class: "cal-muted", text: `\u2026 en nog ${c.n_no_reason - c.no_reason.length}.` }));
      }
      if (c.done) sec.append(h("p", { class: "cal-ok", text: "Alles vastgelegd, met redenen." }));
      parts.push(sec);
    }
    openBody.replaceChildren(...parts);
    rescoreBox.hidden = false;
    rescoreNote.textContent = T.rescore_intro;
    rescoreCases.el.hidden = rescoreRaters.el.hidden = rescoreBtn.hidden = false;
    if (o.rescore) {
      if (rescoreFor !== st.session) { rescoreFor = st.session; rescoreCases.set([]); rescoreRaters.set([]); }
      rescoreCases.set(o.rescore.cases.map((c) => ({ id: c.id, main: c.title })));
      rescoreRaters.set(o.rescore.raters.map((r) => ({ id: r.id, main: r.label !== r.id ? r.label : "" })));
    }
  }

  // ------------------------------------------------------------------ presentation keys, leaving
  function onPresentKey(e) {
    if (!st.present || st.screen !== "discussion") return;
    const t = e.target;
    if (t && (t.closest && (t.closest("input, textarea, select, [role=radiogroup]")))) return;
    if (e.key === "PageDown" || e.key === "ArrowRight") { e.preventDefault(); moveCase(1); }
    else if (e.key === "PageUp" || e.key === "ArrowLeft") { e.preventDefault(); moveCase(-1); }
  }
  document.addEventListener("keydown", onPresentKey);
  function guard() { return drafts.size > 0; }
  function onBeforeUnload(e) {
    if (!guard()) return undefined;
    e.preventDefault();
    e.returnValue = T.unsaved_warning;
    return T.unsaved_warning;
  }
  // the progress of a blind round follows by itself while it is on screen
  const ticker = setInterval(() => {
    if (ready && st.screen === "progress" && st.info && !st.info.revealed && !st.confirm && document.visibilityState !== "hidden") {
      send({ type: "refresh", quiet: true });
    }
  }, REFRESH_MS);
  const guards = window.calibrateUnloadGuards;
  if (Array.isArray(guards)) guards.push(guard); else window.addEventListener("beforeunload", onBeforeUnload);

  // ------------------------------------------------------------------ updating from the kernel
  function update() {
    st = model.get("state");
    if (!ready) {
      if ((st.hello || 0) <= helloSeen) return;   // wait for the kernel's fresh state
      ready = true;
      loading.remove();
      root.hidden = false;
    }
    const info = st.info;
    title.replaceChildren(...(info ? [`${info.title || T.session} `, h("span", { class: "cal-nowrap", text: `(${info.id})` })] : [T.app_title]));
    subtitle.textContent = info ? [info.date, info.framework, info.revealed ? "onthuld" : "blind", info.parent ? `herbeoordeling van ${info.parent}` : null].filter(Boolean).join(" \u00b7 ") : T.no_sessions;
    const optKey = JSON.stringify(st.sessions) + st.session + narrow();
    if (sessionSelect.dataset.key !== optKey) {
      sessionSelect.dataset.key = optKey;
      sessionSelect.replaceChildren(...(st.sessions || []).map((s) => h("option", { value: s.id, selected: s.id === st.session },
        narrow() ? s.short : s.label)));
    }
    sessionSelect.disabled = !(st.sessions || []).length;
    root.classList.toggle("cal-present", !!st.present);
    presentBtn.setAttribute("aria-pressed", st.present ? "true" : "false");
    presentBtn.lastChild.textContent = st.present ? T.present_off : T.present;
    presentHint.hidden = !st.present;
    for (const [s, b] of navBtns) {
      b.setAttribute("aria-current", s === st.screen ? "page" : "false");
      b.disabled = s !== "setup" && !info;
    }
    for (const [s, sec] of screens) sec.hidden = s !== st.screen;
    renderSetup();
    renderProgress();
    renderDiscussion();
    renderOpen();
    for (const s of spec.screens) renderMsg(s);
    renderConfirm();
  }

  root.hidden = true;
  el.append(loading, root);
  model.on("change:state", update);
  const onNarrow = () => { if (ready) update(); };
  if (narrowQuery) narrowQuery.addEventListener("change", onNarrow);
  send({ type: "hello" });
  return () => {
    if (Array.isArray(guards)) guards.splice(guards.indexOf(guard), 1);
    else window.removeEventListener("beforeunload", onBeforeUnload);
    document.removeEventListener("keydown", onPresentKey);
    clearInterval(ticker);
    if (narrowQuery) narrowQuery.removeEventListener("change", onNarrow);
    model.off("change:state", update);
  };
}

export default { render };
