// The demo page: browse the data's images, ask the model, draw a(R) and word scores.
"use strict";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const PER_PAGE = 48;
const OUTLINE_MIN = 0.05;   // regions with a(R) below this are not outlined
const state = { info: null, split: "", qtype: "", page: 0, total: 0, image: null,
                answer: null, shown: 0, words: null, word: 0, kind: "object" };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

function showError(message) {
  const box = $("error");
  box.textContent = message || "";
  box.hidden = !message;
}

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  let response, data;
  try {
    response = await fetch(path, options);
    data = await response.json();
  } catch (err) {
    throw new Error(`the server did not answer (${err.message})`);
  }
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}

// ---------------------------------------------------------------- the browser
async function start() {
  try {
    state.info = await api("/api/info");
  } catch (err) { showError(err.message); return; }
  const info = state.info;
  $("model").textContent = `${info.title} · scored by ${info.scorer}` +
    (info.open_vocabulary ? "" : " · Joint Multitask: class names only for words");
  for (const split of info.splits) $("split").append(el("option", { value: split, text: split }));
  state.split = info.default_split || "";
  $("split").value = state.split;
  fillTypes();
  $("split").addEventListener("change", () => { state.split = $("split").value; state.page = 0; fillTypes(); loadPage(); });
  $("qtype").addEventListener("change", () => { state.qtype = $("qtype").value; state.page = 0; loadPage(); });
  $("prev").addEventListener("click", () => { if (state.page > 0) { state.page--; loadPage(); } });
  $("next").addEventListener("click", () => { if ((state.page + 1) * PER_PAGE < state.total) { state.page++; loadPage(); } });
  $("goto").addEventListener("submit", (e) => { e.preventDefault(); openImage($("image-id").value.trim()); });
  $("ask").addEventListener("submit", (e) => { e.preventDefault(); ask(); });
  $("words-form").addEventListener("submit", (e) => { e.preventDefault(); findWords(); });
  await loadPage();
  const first = document.querySelector(".thumb");
  if (first) first.click();
}

function fillTypes() {
  const select = $("qtype");
  select.replaceChildren(el("option", { value: "", text: "all types" }));
  for (const [type, images] of state.info.question_types[state.split] || [])
    select.append(el("option", { value: type, text: `${type} (${images})` }));
  state.qtype = "";
}

async function loadPage() {
  let data;
  try {
    const q = new URLSearchParams({ split: state.split, type: state.qtype, page: state.page, per_page: PER_PAGE });
    data = await api(`/api/images?${q}`);
  } catch (err) { showError(err.message); return; }
  state.total = data.total;
  const pages = Math.max(1, Math.ceil(data.total / PER_PAGE));
  $("page-info").textContent = `page ${data.page + 1} of ${pages} · ${data.total} images`;
  $("thumbs").replaceChildren(...data.images.map((image) => {
    const button = el("button", { class: "thumb", type: "button", "data-id": image.id,
                                  title: `image ${image.id}: ${image.questions} questions`,
                                  onclick: () => openImage(image.id) });
    if (image.picture) button.append(el("img", { src: `/picture/${image.id}`, loading: "lazy", alt: `image ${image.id}` }));
    button.append(el("span", { text: `${image.id} · ${image.questions}q` }));
    return button;
  }));
  markSelected();
}

function markSelected() {
  for (const t of document.querySelectorAll(".thumb"))
    t.classList.toggle("selected", state.image && String(state.image.id) === t.dataset.id);
}

async function openImage(id) {
  showError("");
  let image;
  try {
    const q = state.split ? `?split=${encodeURIComponent(state.split)}` : "";
    image = await api(`/api/images/${encodeURIComponent(id)}${q}`);
    if (!image.questions.length && image.split !== null) image = await api(`/api/images/${encodeURIComponent(id)}`);
  } catch (err) { showError(err.message); return; }
  state.image = image; state.answer = null; state.words = null;
  markSelected();
  $("image-title").textContent = `Image ${image.id}` + (image.split ? ` · ${image.split} split` : "");
  const picture = $("picture");
  if (image.picture) { picture.src = image.picture; picture.hidden = false; }
  else { picture.removeAttribute("src"); picture.hidden = true; }
  $("questions").replaceChildren(...image.questions.map((q) => el("li", {
      title: "ask this question", onclick: () => { $("question").value = q.question; $("choices").value = ""; ask(q); } },
    q.question, " ", el("span", { class: "truth", text: `→ ${q.answer}` }))));
  if (!image.questions.length) $("questions").append(el("li", { class: "truth", text: "no dataset questions: type one" }));
  $("answers").replaceChildren(); $("words-result").replaceChildren();
  drawBoxes();
  $("caption").textContent = image.boxes ? `${image.regions} regions (outlined); ask a question to see where the model looks.`
                                         : `${image.regions} regions (no boxes in this data).`;
  $("legend").replaceChildren();
}

// ------------------------------------------------------------------- asking
async function ask(record) {
  const image = state.image;
  if (!image) { showError("pick an image first"); return; }
  const question = $("question").value;
  const body = { image: image.id, question };
  const choices = $("choices").value.split(",").map((c) => c.trim());
  if ($("choices").value.trim()) body.choices = choices;
  if (record && record.question === question) { body.question_id = record.question_id; body.split = image.split; }
  const button = $("ask-button");
  button.disabled = true; button.classList.add("busy");
  try {
    state.answer = await api("/api/answer", body);
    state.shown = 0;
    showError("");
    showAnswer();
  } catch (err) { showError(err.message); }
  finally { button.disabled = false; button.classList.remove("busy"); }
}

function showAnswer() {
  const a = state.answer;
  const best = a.answers[0].score, worst = a.answers[a.answers.length - 1].score;
  const span = Math.max(best - worst, 1e-6);
  const rows = a.answers.map((r, i) => el("tr", {
      class: "answer" + (r.true ? " true" : "") + (i === state.shown ? " shown" : ""),
      title: "show where the model looks for this answer", onclick: () => { state.shown = i; showAnswer(); } },
    el("td", { class: "num", text: String(i + 1) }),
    el("td", {}, r.answer, ...(r.true ? [el("span", { class: "mark", text: "✓ true answer" })] : [])),
    el("td", { class: "meter" }, el("div", { style: `width:${Math.max(2, 100 * (r.score - worst) / span)}%` })),
    el("td", { class: "num", text: r.score.toFixed(3) })));
  const kind = a.open_ended ? `open-ended: ${a.candidates} training answers ` +
    (a.question_type ? `of the type “${a.question_type}”` : "of all types (no training type starts it)")
    : `${a.candidates} choices`;
  const parts = [el("div", { class: "summary", text: `${kind} · scored by ${a.scorer} · ${(a.seconds * 1000).toFixed(0)} ms` })];
  if (a.true_answer !== null) {
    const where = a.true_rank ? `ranked ${a.true_rank} of ${a.candidates}` : `not among the ${a.candidates} candidates`;
    parts.push(el("div", { class: "summary", text: `true answer: ${a.true_answer} (${where}); the ten people said: ${a.human_answers.join(", ")}` }));
  }
  parts.push(el("table", { id: "ranked" }, el("tr", {}, el("th", { text: "#" }), el("th", { text: "answer" }),
    el("th", { text: "" }), el("th", { class: "num", text: "S(Q,I,A)" })), ...rows));
  for (const note of a.notes) parts.push(el("div", { class: "note", text: `note: ${note}` }));
  const newWords = Object.entries(a.new_words);
  if (newWords.length) parts.push(el("div", { class: "note", text: "new words: " + newWords.map(([w, how]) => `${w} (${how})`).join("; ") }));
  $("answers").replaceChildren(...parts);
  drawAttention();
}

function drawAttention() {
  const a = state.answer;
  const att = a.attention[state.shown];
  const order = att.map((v, k) => [v, k]).filter(([v, k]) => a.regions[k].valid).sort((x, y) => y[0] - x[0]);
  const rank = new Map(order.map(([, k], i) => [k, i + 1]));
  drawBoxes((k) => {
    const v = att[k] || 0;
    return { fill: "#e8590c", opacity: 0.7 * Math.sqrt(v), outline: v >= OUTLINE_MIN ? 1 + 4 * v : 0,
             label: rank.get(k) <= 3 && v >= OUTLINE_MIN ? `${rank.get(k)}: ${v.toFixed(2)}` : "",
             title: `region ${k}: a(R) ${v.toFixed(3)} · best object ${a.regions[k].object}, attribute ${a.regions[k].attribute}` };
  }, "#e8590c");
  const top = order.slice(0, 3).map(([v, k]) => `region ${k} ${v.toFixed(2)} (${a.regions[k].attribute} ${a.regions[k].object})`);
  $("caption").textContent = `Where the model looks for “${a.answers[state.shown].answer}”: ${top.join(", ")}.`;
  legend("a(R), Eq. 4: the weights sum to 1 over the regions", [0, 0.25, 0.5, 1], (v) => 0.7 * Math.sqrt(v), "232, 89, 12",
         `fill opacity ∝ √a(R); outlined where a(R) ≥ ${OUTLINE_MIN}`);
}

function legend(title, ticks, opacity, rgb, note) {
  const stops = [0, 0.1, 0.25, 0.5, 0.75, 1].map((v) => `rgba(${rgb},${opacity(v).toFixed(3)}) ${v * 100}%`);
  $("legend").replaceChildren(el("div", { text: title }),
    el("div", { class: "bar", style: `background: linear-gradient(to right, ${stops.join(", ")})` }),
    el("div", { class: "scale" }, ...ticks.map((t) => el("span", { text: String(t) }))),
    el("div", { text: note }));
}

// boxes(style(k) -> {fill, opacity, outline, label, title}) over the picture.
function drawBoxes(style, stroke = "#495057") {
  const svg = $("overlay");
  svg.replaceChildren();
  const image = state.image;
  if (!image || !image.boxes || !image.width) return;
  svg.setAttribute("viewBox", `0 0 ${image.width} ${image.height}`);
  svg.setAttribute("preserveAspectRatio", "none");
  image.boxes.forEach((box, k) => {
    const s = style ? style(k) : { fill: "none", opacity: 0, outline: 1, label: "", title: `region ${k}` };
    const [x, y, w, h] = box;
    const g = document.createElementNS(SVG, "g");
    const rect = document.createElementNS(SVG, "rect");
    for (const [name, v] of Object.entries({ x, y, width: w, height: h, fill: s.fill, "fill-opacity": s.opacity,
                                              stroke: s.outline ? stroke : "none", "stroke-width": s.outline || 0,
                                              "stroke-dasharray": style ? "" : "4 3" })) rect.setAttribute(name, v);
    const title = document.createElementNS(SVG, "title");
    title.textContent = s.title;
    rect.append(title);
    g.append(rect);
    if (s.label) {
      const text = document.createElementNS(SVG, "text");
      text.setAttribute("x", x + 3); text.setAttribute("y", y + h - 4);
      text.setAttribute("class", "box-label");
      text.setAttribute("style", "font: 600 12px system-ui; fill: #fff; paint-order: stroke; stroke: rgba(0,0,0,.7); stroke-width: 3px;");
      text.textContent = s.label;
      g.append(text);
    }
    svg.append(g);
  });
}

// ----------------------------------------------------------- words (Sec. 3.2.1)
async function findWords() {
  if (!state.image) { showError("pick an image first"); return; }
  try {
    state.words = await api("/api/recognize", { image: state.image.id, words: $("words").value });
    state.word = 0;
    showError("");
    showWords();
  } catch (err) { showError(err.message); }
}

function showWords() {
  const r = state.words;
  const kinds = el("div", { class: "summary" }, "score with ",
    ...["object", "attribute"].map((kind) => el("label", {}, el("input", Object.assign(
      { type: "radio", name: "kind", value: kind, onchange: () => { state.kind = kind; showWords(); } },
      state.kind === kind ? { checked: "" } : {})), kind === "object" ? " f_o (objects) " : " f_a (attributes) ")));
  const scores = state.kind === "object" ? r.object_scores : r.attribute_scores;
  const rows = r.words.map((word, w) => {
    const column = scores.map((row) => row[w]).filter((v, k) => r.valid[k] && v !== null);
    const best = column.length ? Math.max(...column) : null;
    const k = scores.findIndex((row) => row[w] === best);
    return el("tr", { class: "word" + (w === state.word ? " shown" : ""), title: "draw this word's scores",
                      onclick: () => { state.word = w; showWords(); } },
      el("td", {}, word, r.classes[w] ? "" : el("span", { class: "truth", text: " (not a class)" })),
      el("td", { text: best === null ? "—" : `region ${k}` }),
      el("td", { class: "num", text: best === null ? "—" : best.toFixed(2) }));
  });
  const parts = [kinds, el("table", {}, el("tr", {}, el("th", { text: "word" }), el("th", { text: "best region" }),
                                     el("th", { class: "num", text: "score" })), ...rows)];
  const newWords = Object.entries(r.new_words);
  if (newWords.length) parts.push(el("div", { class: "note", text: "new words: " + newWords.map(([w, how]) => `${w} (${how})`).join("; ") }));
  $("words-result").replaceChildren(...parts);
  drawWord(scores);
}

function drawWord(scores) {
  const r = state.words, w = state.word, word = r.words[w];
  const values = scores.map((row, k) => (r.valid[k] ? row[w] : null));
  const known = values.filter((v) => v !== null);
  if (!known.length) { drawBoxes(); return; }
  const lo = Math.min(...known), hi = Math.max(...known), span = Math.max(hi - lo, 1e-6);
  const order = values.map((v, k) => [v, k]).filter(([v]) => v !== null).sort((x, y) => y[0] - x[0]);
  drawBoxes((k) => {
    const v = values[k];
    const t = v === null ? 0 : (v - lo) / span;
    return { fill: "#1971c2", opacity: 0.65 * t, outline: k === order[0][1] ? 3 : (t > 0.5 ? 1 : 0),
             label: k === order[0][1] ? `${word} ${v.toFixed(2)}` : "",
             title: `region ${k}: ${state.kind} score of “${word}” ${v === null ? "—" : v.toFixed(3)}` };
  }, "#1971c2");
  $("caption").textContent = `Where “${word}” grounds (${state.kind} score f_${state.kind[0]}(R)ᵀg(w)): best region ${order[0][1]}.`;
  legend(`${state.kind} score of “${word}”, from the image's lowest to its highest`,
         [lo.toFixed(2), hi.toFixed(2)], (v) => 0.65 * v, "25, 113, 194", "fill opacity ∝ the score's place between the two");
}

start();
