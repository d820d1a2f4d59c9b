// The simulator's web chat: talk to the bot as any persona, the way a Telegram app would.
// Everything goes through the control API (/sim/api/...), the same one the test driver uses.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  bots: [],
  botId: null,
  users: [],
  user: null,
  seq: 0,
  messages: new Map(),
  poll: null,
};

// ---------------------------------------------------------------- HTTP helpers

async function api(path, options = {}) {
  const response = await fetch(path, options);
  const body = await response.json();
  if (!body.ok) throw new Error(body.description || `HTTP ${response.status}`);
  return body.result;
}

function postJSON(path, payload) {
  return api(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(payload),
  });
}

function chatPath(suffix = "") {
  return `/sim/api/bots/${state.botId}/chats/${state.user.id}${suffix}`;
}

// ---------------------------------------------------------------- rendering helpers

function escapeHTML(text) {
  return text.replace(/[&<>"']/g, (c) => ({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
  })[c]);
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const ENTITY_TAGS = {
  bold: ["<b>", "</b>"],
  italic: ["<i>", "</i>"],
  underline: ["<u>", "</u>"],
  strikethrough: ["<s>", "</s>"],
  spoiler: ['<span class="spoiler">', "</span>"],
  code: ["<code>", "</code>"],
  pre: ["<pre>", "</pre>"],
  blockquote: ["<blockquote>", "</blockquote>"],
  expandable_blockquote: ["<blockquote>", "</blockquote>"],
};

// Telegram entities count UTF-16 code units, exactly like JavaScript string indexes.
function formatText(text, entities) {
  const opens = new Map();
  const closes = new Map();
  for (const entity of entities || []) {
    let tags = ENTITY_TAGS[entity.type];
    if (entity.type === "text_link" && /^(https?|tg):/i.test(entity.url)) {
      tags = [`<a href="${escapeHTML(entity.url)}" target="_blank" rel="noopener">`, "</a>"];
    }
    if (!tags) continue;
    const end = entity.offset + entity.length;
    if (!opens.has(entity.offset)) opens.set(entity.offset, []);
    if (!closes.has(end)) closes.set(end, []);
    opens.get(entity.offset).push(tags[0]);
    closes.get(end).unshift(tags[1]);
  }
  let out = "";
  for (let i = 0; i <= text.length; i++) {
    out += (closes.get(i) || []).join("") + (opens.get(i) || []).join("");
    if (i < text.length) out += escapeHTML(text[i]);
  }
  return out;
}

function clock(unixSeconds) {
  const d = new Date(unixSeconds * 1000);
  return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function avatarHue(id) {
  return (id * 47) % 360;
}

// ---------------------------------------------------------------- messages

function mediaNode(message) {
  if (message.photo) {
    const biggest = message.photo[message.photo.length - 1];
    const img = el("img", "photo");
    img.src = `/sim/files/${encodeURIComponent(biggest.file_id)}`;
    img.alt = "photo";
    img.addEventListener("load", scrollToBottom);
    return img;
  }
  if (message.document) {
    const link = el("a", "document", `📄 ${message.document.file_name || "document"}`);
    link.href = `/sim/files/${encodeURIComponent(message.document.file_id)}`;
    link.target = "_blank";
    return link;
  }
  if (message.voice) {
    const audio = el("audio", "voice");
    audio.controls = true;
    audio.src = `/sim/files/${encodeURIComponent(message.voice.file_id)}`;
    return audio;
  }
  if (message.location) {
    const { latitude, longitude } = message.location;
    return el("div", "location", `📍 ${latitude.toFixed(5)}, ${longitude.toFixed(5)}`);
  }
  if (message.contact) {
    const c = message.contact;
    return el("div", "contact", `👤 ${c.first_name} ${c.last_name || ""}  ${c.phone_number}`);
  }
  return null;
}

function inlineKeyboard(view) {
  const markup = view.message.reply_markup;
  if (!markup || !markup.inline_keyboard) return null;
  const box = el("div", "inline-keyboard");
  for (const row of markup.inline_keyboard) {
    const line = el("div", "inline-row");
    for (const button of row) {
      const b = el("button", "inline-button", button.text);
      b.type = "button";
      if (button.url) {
        b.classList.add("url");
        b.title = button.url;
        b.addEventListener("click", () => window.open(button.url, "_blank", "noopener"));
      } else if (button.callback_data !== undefined) {
        b.addEventListener("click", () => pressButton(view.message_id, button.callback_data, b));
      } else {
        b.disabled = true;
      }
      line.append(b);
    }
    box.append(line);
  }
  return box;
}

function bubble(view) {
  const message = view.message;
  const wrap = el("div", `bubble-wrap ${view.outgoing ? "from-bot" : "from-me"}`);
  wrap.dataset.messageId = view.message_id;
  const box = el("div", "bubble");
  if (message.media_group_id) box.classList.add("album");
  if (message.forward_origin) box.append(el("div", "forwarded", "Forwarded message · 转发"));
  const media = mediaNode(message);
  if (media) box.append(media);
  const text = message.text ?? message.caption;
  if (text) {
    const body = el("div", "text");
    body.innerHTML = formatText(text, message.entities || message.caption_entities);
    box.append(body);
  }
  const meta = el("div", "meta", `${view.edited ? "edited · " : ""}${clock(message.date)}`);
  box.append(meta);
  wrap.append(box);
  const keyboard = inlineKeyboard(view);
  if (keyboard) wrap.append(keyboard);
  return wrap;
}

function scrollToBottom() {
  const box = $("messages");
  box.scrollTop = box.scrollHeight;
}

function showMessage(view) {
  state.messages.set(view.message_id, view);
  const box = $("messages");
  const existing = box.querySelector(`[data-message-id="${view.message_id}"]`);
  const node = bubble(view);
  if (existing) {
    existing.replaceWith(node);
  } else {
    box.querySelector(".empty")?.remove();
    box.append(node);
    scrollToBottom();
  }
}

function removeMessage(messageId) {
  state.messages.delete(messageId);
  $("messages").querySelector(`[data-message-id="${messageId}"]`)?.remove();
}

// ---------------------------------------------------------------- reply keyboard

function renderReplyKeyboard(markup) {
  const box = $("reply-keyboard");
  box.replaceChildren();
  box.hidden = !markup;
  $("text-input").placeholder = markup?.input_field_placeholder || "Message · 输入消息";
  if (!markup) return;
  for (const row of markup.keyboard) {
    const line = el("div", "reply-row");
    for (const button of row) {
      const b = el("button", "reply-button", button.text);
      b.type = "button";
      if (button.request_contact) b.classList.add("share", "share-phone");
      if (button.request_location) b.classList.add("share", "share-location");
      b.addEventListener("click", () => tapButton(button));
      line.append(b);
    }
    box.append(line);
  }
}

async function tapButton(button) {
  const payload = { text: button.text };
  if (button.request_contact) {
    const ok = window.confirm(`Share your phone number ${state.user.phone_number} with the bot?\n` +
      `把手机号 ${state.user.phone_number} 发给机器人？`);
    if (!ok) return;
  }
  if (button.request_location) {
    const answer = window.prompt("Location to share (latitude, longitude) · 发送位置", "38.80, 106.69");
    if (!answer) return;
    const [latitude, longitude] = answer.split(",").map((x) => parseFloat(x));
    Object.assign(payload, { latitude, longitude });
  }
  await act(() => postJSON(chatPath("/tap"), payload));
}

// ---------------------------------------------------------------- actions

function toast(text, alert = false) {
  if (alert) {
    window.alert(text);
    return;
  }
  const box = $("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(box.timer);
  box.timer = setTimeout(() => { box.hidden = true; }, 3000);
}

async function act(action) {
  try {
    return await action();
  } catch (error) {
    toast(`⚠ ${error.message}`);
    return null;
  }
}

async function pressButton(messageId, data, button) {
  button.classList.add("pending");
  const pressed = await act(() => postJSON(chatPath("/press"),
    { message_id: messageId, callback_data: data }));
  if (!pressed) button.classList.remove("pending");
  // The spinner stops when the bot answers (callback_answer event) or after a while.
  setTimeout(() => button.classList.remove("pending"), 5000);
}

async function sendText(event) {
  event.preventDefault();
  const input = $("text-input");
  const text = input.value.trim();
  if (!text) return;
  input.value = "";
  await act(() => postJSON(chatPath("/text"), { text }));
  input.focus();
}

async function sendPhoto() {
  const input = $("photo-input");
  if (!input.files.length) return;
  const form = new FormData();
  form.append("photo", input.files[0]);
  const caption = $("text-input").value.trim();
  if (caption) form.append("caption", caption);
  $("text-input").value = "";
  input.value = "";
  await act(() => api(chatPath("/photo"), { method: "POST", body: form }));
}

// A voice message, the way a phone sends one: record with the microphone (tap to start, tap
// again to send), or pick an audio file where the browser cannot record.
const recording = { recorder: null, chunks: [], started: 0, timer: null };

async function sendVoice(blob, seconds, name = "voice.ogg") {
  const form = new FormData();
  form.append("voice", blob, name);
  form.append("duration", String(Math.max(1, Math.round(seconds))));
  await act(() => api(chatPath("/voice"), { method: "POST", body: form }));
}

async function sendVoiceFile() {
  const input = $("voice-input");
  if (!input.files.length) return;
  const file = input.files[0];
  input.value = "";
  await sendVoice(file, await audioSeconds(file), file.name);
}

function audioSeconds(file) {
  // The length the file says it has; 1 s where the browser cannot tell.
  return new Promise((resolve) => {
    const audio = new Audio();
    const done = (seconds) => { URL.revokeObjectURL(audio.src); resolve(seconds); };
    audio.addEventListener("loadedmetadata", () => done(Number.isFinite(audio.duration) ? audio.duration : 1));
    audio.addEventListener("error", () => done(1));
    audio.src = URL.createObjectURL(file);
  });
}

async function toggleRecording() {
  const button = $("voice-button");
  if (recording.recorder) {
    recording.recorder.stop();
    return;
  }
  if (!navigator.mediaDevices || !window.MediaRecorder) {
    toast("This browser cannot record here: pick an audio file with 🎵 · 无法录音，请用 🎵 选择录音文件");
    return;
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (error) {
    toast("No microphone: pick an audio file with 🎵 · 没有麦克风，请用 🎵 选择录音文件");
    return;
  }
  const type = ["audio/ogg;codecs=opus", "audio/webm;codecs=opus"].find((t) => MediaRecorder.isTypeSupported(t));
  const recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
  Object.assign(recording, { recorder, chunks: [], started: Date.now() });
  recorder.addEventListener("dataavailable", (e) => { if (e.data.size) recording.chunks.push(e.data); });
  recorder.addEventListener("stop", async () => {
    stream.getTracks().forEach((track) => track.stop());
    clearInterval(recording.timer);
    const seconds = (Date.now() - recording.started) / 1000;
    const blob = new Blob(recording.chunks, { type: recorder.mimeType || "audio/ogg" });
    Object.assign(recording, { recorder: null, chunks: [], timer: null });
    button.textContent = "🎤";
    button.classList.remove("recording");
    if (blob.size) await sendVoice(blob, seconds);
  });
  recorder.start();
  button.classList.add("recording");
  const tick = () => { button.textContent = `⏹ ${Math.floor((Date.now() - recording.started) / 1000)}″`; };
  tick();
  recording.timer = setInterval(tick, 500);
}

async function toggleBlock() {
  const blocked = $("block-toggle").dataset.blocked === "true";
  const path = `/sim/api/bots/${state.botId}/users/${state.user.id}/${blocked ? "unblock" : "block"}`;
  await act(() => postJSON(path, {}));
}

async function toggleCommandMenu() {
  const menu = $("command-menu");
  if (!menu.hidden) {
    menu.hidden = true;
    return;
  }
  const language = encodeURIComponent(state.user.language_code || "");
  const commands = await act(() =>
    api(`/sim/api/bots/${state.botId}/commands?language_code=${language}`));
  menu.replaceChildren();
  for (const command of commands?.length ? commands : [{ command: "start", description: "" }]) {
    const item = el("button", "command", "");
    item.type = "button";
    item.append(el("b", "", `/${command.command}`), el("span", "", command.description));
    item.addEventListener("click", async () => {
      menu.hidden = true;
      await act(() => postJSON(chatPath("/text"), { text: `/${command.command}` }));
    });
    menu.append(item);
  }
  menu.hidden = false;
}

// ---------------------------------------------------------------- chat state and polling

function applyChatState(result) {
  renderReplyKeyboard(result.reply_keyboard);
  const toggle = $("block-toggle");
  toggle.hidden = false;
  toggle.dataset.blocked = String(result.blocked);
  toggle.textContent = result.blocked ? "Unblock · 解除屏蔽" : "Block bot · 屏蔽";
  $("composer").classList.toggle("blocked", result.blocked);
}

let typingTimer = null;

function applyEvent(event) {
  if (event.type === "message" || event.type === "edit") {
    showMessage(event.view);
    if (event.view.outgoing) $("typing").hidden = true;
  } else if (event.type === "delete") {
    removeMessage(event.message_id);
  } else if (event.type === "callback_answer") {
    document.querySelectorAll(".inline-button.pending").forEach((b) => b.classList.remove("pending"));
    if (event.answer.text) toast(event.answer.text, event.answer.show_alert);
  } else if (event.type === "chat_action") {
    $("typing").hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => { $("typing").hidden = true; }, 5000);
  }
}

async function pollLoop(controller, user) {
  while (!controller.signal.aborted && state.user === user) {
    try {
      const result = await api(chatPath(`/events?after=${state.seq}&timeout=25`),
        { signal: controller.signal });
      if (state.user !== user) return;
      for (const event of result.events) applyEvent(event);
      state.seq = result.seq;
      applyChatState(result);
    } catch (error) {
      if (controller.signal.aborted) return;
      await new Promise((resolve) => setTimeout(resolve, 1500));
    }
  }
}

async function openChat(user) {
  state.poll?.abort();
  state.user = user;
  state.messages.clear();
  highlightPersona();
  $("chat-subtitle").textContent = `as ${user.full_name}${user.label ? ` · ${user.label}` : ""}`;
  $("composer").hidden = false;
  $("command-menu").hidden = true;
  const box = $("messages");
  box.replaceChildren();
  if (!state.botId) {
    box.append(el("p", "empty", "Waiting for the bot to connect… 等待机器人连接…"));
    return;
  }
  const history = await act(() => api(chatPath()));
  if (!history || state.user !== user) return;
  if (!history.messages.length) {
    box.append(el("p", "empty", "No messages yet. Send /start · 发送 /start 开始"));
  }
  history.messages.forEach(showMessage);
  state.seq = history.seq;
  applyChatState(history);
  state.poll = new AbortController();
  pollLoop(state.poll, user);
  $("text-input").focus();
}

// ---------------------------------------------------------------- personas and bots

function personaItem(user) {
  const li = el("li");
  const a = el("a", "persona");
  a.href = `#user=${user.id}`;
  a.dataset.user = user.id;
  const avatar = el("span", "avatar", user.first_name.slice(0, 1));
  avatar.style.setProperty("--hue", avatarHue(user.id));
  const who = el("span", "who");
  who.append(el("b", "", user.full_name), el("small", "", user.label || ""));
  a.append(avatar, who);
  li.append(a);
  return li;
}

function renderPersonas() {
  const filter = $("persona-filter").value.trim().toLowerCase();
  const list = $("persona-list");
  const shown = state.users.filter((u) =>
    !filter || `${u.full_name} ${u.label || ""} ${u.username || ""}`.toLowerCase().includes(filter));
  list.replaceChildren(...shown.map(personaItem));
  if (!state.users.length) {
    list.append(el("li", "hint", "No personas yet — create one below. 还没有角色，请在下方新建。"));
  }
  highlightPersona();
}

function highlightPersona() {
  document.querySelectorAll(".persona").forEach((a) => {
    a.classList.toggle("active", state.user !== null && a.dataset.user === String(state.user.id));
  });
}

async function refreshPersonas() {
  const users = await act(() => api("/sim/api/users"));
  if (!users) return;
  const changed = JSON.stringify(users) !== JSON.stringify(state.users);
  state.users = users;
  if (changed) renderPersonas();
}

async function refreshBots() {
  const bots = await act(() => api("/sim/api/bots"));
  if (!bots) return;
  state.bots = bots;
  const select = $("bot-select");
  select.hidden = bots.length < 2;
  select.replaceChildren(...bots.map((b) => {
    const option = el("option", "", `${b.first_name} (@${b.username})`);
    option.value = b.id;
    return option;
  }));
  const hadBot = state.botId !== null;
  if (!hadBot && bots.length) state.botId = bots[0].id;
  if (state.botId !== null) select.value = state.botId;
  const bot = bots.find((b) => b.id === state.botId);
  if (bot) $("bot-name").textContent = bot.first_name;
  if (!hadBot && state.botId !== null && state.user) openChat(state.user);
}

function selectFromHash() {
  const match = location.hash.match(/user=(-?\d+)/);
  const user = match && state.users.find((u) => String(u.id) === match[1]);
  if (user && (!state.user || state.user.id !== user.id)) openChat(user);
}

async function createPersona(event) {
  event.preventDefault();
  const form = event.target;
  const data = Object.fromEntries(new FormData(form).entries());
  const user = await act(() => postJSON("/sim/api/users", data));
  if (!user) return;
  form.reset();
  await refreshPersonas();
  location.hash = `user=${user.id}`;
}

async function start() {
  $("composer").addEventListener("submit", sendText);
  $("photo-input").addEventListener("change", sendPhoto);
  $("voice-button").addEventListener("click", toggleRecording);
  $("voice-input").addEventListener("change", sendVoiceFile);
  $("block-toggle").addEventListener("click", toggleBlock);
  $("menu-button").addEventListener("click", toggleCommandMenu);
  $("new-persona").addEventListener("submit", createPersona);
  $("persona-filter").addEventListener("input", renderPersonas);
  $("bot-select").addEventListener("change", (e) => {
    state.botId = Number(e.target.value);
    if (state.user) openChat(state.user);
  });
  window.addEventListener("hashchange", selectFromHash);
  await Promise.all([refreshBots(), refreshPersonas()]);
  renderPersonas();
  selectFromHash();
  // Seeding scripts and tests add personas and bots while the page is open.
  setInterval(refreshPersonas, 4000);
  setInterval(refreshBots, 3000);
}

start();
