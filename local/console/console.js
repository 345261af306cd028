// Flex Bridge local console. Plain JavaScript, no build step, nothing fetched from elsewhere.
//
// State arrives as server-sent events from /console/api/events (a snapshot of the sandbox's
// tasks, conversations, X DMs and Discord channels, and the cases, sent whenever it changes).
// Actions call the sandbox's control routes (/sandbox/..., on this origin), which play the
// customers and the agent through the same signed webhooks and interactions as production; the
// case buttons call the console's operator routes (/console/api/cases/...).
"use strict";

const $ = (id) => document.getElementById(id);

/** The latest snapshot. */
let state = null;

/** What this tab has selected (kept across reloads of the tab). */
const ui = {
  x: sessionStorage.getItem("x") || "",
  discord: sessionStorage.getItem("discord") || "",
  task: sessionStorage.getItem("task") || "",
  caseId: sessionStorage.getItem("case") || "",
};

function select(key, value) {
  ui[key] = value;
  sessionStorage.setItem(key === "caseId" ? "case" : key, value);
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** Builds an element: h("div", {class: "x", dataset: {id: 1}, onclick: f}, child, "text"). */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "text") el.textContent = value;
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
  })[c]);
}

/** Text with links made clickable; with `markdown`, Discord's **bold** and > quotes too. */
function rich(text, markdown) {
  let html = escapeHtml(text || "");
  html = html.replace(/https?:\/\/[^\s<]+/g,
    (url) => `<a href="${url}" target="_blank" rel="noopener noreferrer">${url}</a>`);
  if (markdown) {
    html = html
      .replace(/\*\*([^*\n]+)\*\*/g, "<strong>$1</strong>")
      .replace(/^&gt; (.*)$/gm, '<span class="quote">$1</span>');
  }
  const span = h("span", { class: "text" });
  span.innerHTML = html;
  return span;
}

function parse(json) {
  try {
    return JSON.parse(json || "{}") || {};
  } catch {
    return {};
  }
}

function toast(message, kind) {
  const el = $("toast");
  el.textContent = message;
  el.className = "toast " + (kind || "error");
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, 5000);
}

/** Calls a JSON route on this origin; a refusal is shown and thrown. */
async function api(method, path, body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.headers["content-type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch (err) {
    toast("The console is not reachable: is flex-bridge-local still running?");
    throw err;
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const message = (data && (data.error || data.message)) || `${response.status} ${response.statusText}`;
    toast(message);
    throw new Error(message);
  }
  return data;
}

/** Runs `render` only when `data` differs from what was last rendered under `key`. */
const lastRendered = new Map();
function changed(key, data) {
  const json = JSON.stringify(data);
  if (lastRendered.get(key) === json) return false;
  lastRendered.set(key, json);
  return true;
}

/** Replaces a scrolling container's children, staying at the bottom if it was there. */
function refill(container, children) {
  children = children.filter(Boolean);
  const atBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 40
    || !container.dataset.filled;
  container.replaceChildren(...children);
  container.dataset.filled = "1";
  if (atBottom) container.scrollTop = container.scrollHeight;
}

function randomDigits(n) {
  let out = "";
  for (let i = 0; i < n; i++) out += Math.floor(Math.random() * 10);
  return out;
}

function time(epochSeconds) {
  return new Date(epochSeconds * 1000).toLocaleString();
}

const PLATFORMS = { x: "X", discord: "Discord" };

/** A customer's display name from an identity (`x-123`, `discord-456`). */
function customerName(identity) {
  const [platform, id] = String(identity || "").split(/-(.*)/s);
  if (!state) return identity;
  if (platform === "x") {
    const c = state.x_customers.find((c) => c.id === id);
    return c ? "@" + c.handle : identity;
  }
  if (platform === "discord") {
    const u = state.discord_users.find((u) => u.id === id);
    return u ? "@" + u.username : identity;
  }
  return identity;
}

// ---------------------------------------------------------------------------------------------
// Tabs

for (const tab of document.querySelectorAll(".tab")) {
  tab.addEventListener("click", () => {
    const pane = tab.closest(".pane");
    for (const other of pane.querySelectorAll(".tab")) {
      other.classList.toggle("active", other === tab);
      $(other.dataset.view).classList.toggle("active", other === tab);
    }
    // A view that was hidden may have new content below its scroll position.
    for (const thread of $(tab.dataset.view).querySelectorAll(".thread, .transcript")) {
      thread.scrollTop = thread.scrollHeight;
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Live state

function connect() {
  const events = new EventSource("/console/api/events");
  events.addEventListener("state", (event) => {
    state = JSON.parse(event.data);
    live(true);
    render();
  });
  events.addEventListener("open", () => live(true));
  events.addEventListener("error", () => live(false));
}

/** Fetches the state now (after an action whose result the next event would bring anyway). */
async function refresh() {
  state = await api("GET", "/console/api/state");
  render();
}

function live(on) {
  const el = $("live");
  el.classList.toggle("on", on);
  el.textContent = on ? "live" : "reconnecting…";
}

let defaultsMade = false;

async function makeDefaults() {
  // Someone to be, the first time: an X customer and a Discord user.
  defaultsMade = true;
  const made = [];
  if (state.x_customers.length === 0) {
    made.push(api("POST", "/console/api/customers", { platform: "x", id: "2900000042", name: "alex_plays" }));
  }
  if (state.discord_users.length === 0) {
    made.push(api("POST", "/console/api/customers", { platform: "discord", id: "800000000000000042", name: "river" }));
  }
  if (made.length) {
    await Promise.allSettled(made);
    await refresh();
  }
}

function render() {
  if (!state) return;
  if (!defaultsMade) makeDefaults();
  renderX();
  renderDiscord();
  renderDesk();
  renderCases();
}

// ---------------------------------------------------------------------------------------------
// X customer

function currentX() {
  return state && state.x_customers.find((c) => c.id === ui.x);
}

function fillSelect(selectEl, items, selected, label) {
  selectEl.replaceChildren(...items.map((item) => h("option", { value: item.id }, label(item))));
  selectEl.value = selected;
}

function renderX() {
  const customers = state.x_customers;
  if (!customers.some((c) => c.id === ui.x) && customers.length) select("x", customers[0].id);
  if (changed("x-list", [customers.map((c) => [c.id, c.handle]), ui.x])) {
    fillSelect($("x-customer"), customers, ui.x, (c) => `@${c.handle} (${c.id})`);
  }
  const customer = currentX();
  const thread = customer ? customer.thread : [];
  if (!changed("x-thread", [ui.x, thread])) return;
  const items = thread.map((dm) => {
    const mine = dm.from === "customer";
    let note = null;
    if (mine && dm.status === null) note = h("span", { class: "note" }, "sending…");
    else if (mine && dm.status !== 200) note = h("span", { class: "note bad" }, `not delivered: the bridge answered ${dm.status || "nothing"}`);
    return h("div", { class: "dm " + (mine ? "customer" : "brand") },
      h("div", { class: "bubble" }, rich(dm.text, false)), note);
  });
  if (!items.length) {
    items.push(h("div", { class: "empty" }, customer
      ? `You are @${customer.handle}. Write to the brand below.`
      : "Add a customer to start."));
  }
  refill($("x-thread"), items);
}

$("x-customer").addEventListener("change", (e) => {
  select("x", e.target.value);
  render();
});

$("x-create").addEventListener("click", async () => {
  const id = $("x-new-id").value.trim() || "29" + randomDigits(8);
  const name = $("x-new-handle").value.trim().replace(/^@/, "") || "customer_" + id.slice(-4);
  await api("POST", "/console/api/customers", { platform: "x", id, name });
  select("x", id);
  $("x-new-id").value = "";
  $("x-new-handle").value = "";
  $("x-create").closest("details").open = false;
  await refresh();
});

$("x-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const customer = currentX();
  const text = $("x-input").value;
  if (!customer) return toast("Add a customer first.");
  if (!text.trim()) return;
  $("x-input").value = "";
  const sending = api("POST", "/sandbox/x/dm", {
    sender_id: customer.id, screen_name: customer.handle, text,
  });
  // The DM shows at once ("sending…"); the webhook's answer follows.
  setTimeout(refresh, 50);
  const delivery = await sending;
  if (delivery.status !== 200) toast(`X's webhook got ${delivery.status || "no answer"} from the bridge`);
});

// ---------------------------------------------------------------------------------------------
// Discord customer

function currentDiscord() {
  return state && state.discord_users.find((u) => u.id === ui.discord);
}

function renderDiscord() {
  const users = state.discord_users;
  if (!users.some((u) => u.id === ui.discord) && users.length) select("discord", users[0].id);
  if (changed("discord-list", [users.map((u) => [u.id, u.username]), ui.discord])) {
    fillSelect($("discord-user"), users, ui.discord, (u) => `@${u.username} (${u.id})`);
  }
  const user = currentDiscord();
  const data = user ? [user.id, user.messages, user.actions] : null;
  if (!changed("discord-thread", [ui.discord, data])) return;
  const items = [];
  if (user) {
    const messages = user.messages;
    const actions = user.actions.slice().sort((a, b) => a.id - b.id);
    let next = 0;
    for (let n = 0; n <= messages.length; n++) {
      while (next < actions.length && actions[next].after <= n) items.push(actionView(actions[next++]));
      if (n < messages.length) items.push(messageView(messages[n]));
    }
  }
  if (!items.length) {
    items.push(h("div", { class: "empty" }, user
      ? `You are @${user.username}. Run /helpme below to ask a question.`
      : "Add a user to start."));
  }
  refill($("discord-thread"), items);
}

const ACTION_VERBS = { command: "used", click: "clicked", modal: "submitted a form" };

function actionView(action) {
  const what = action.kind === "command"
    ? h("code", {}, action.label)
    : action.kind === "click"
      ? h("span", { class: "pill" }, action.label)
      : h("span", { class: "form-values" }, action.label);
  return h("div", { class: "daction", dataset: { kind: action.kind } },
    h("div", { class: "who" }, `You ${ACTION_VERBS[action.kind] || action.kind}`, " ", what),
    replyView(action));
}

/** What the bridge answered an interaction with, as the user sees it. */
function replyView(action) {
  const reply = action.reply;
  if (!reply) return h("div", { class: "ephemeral pending" }, "…");
  if (reply.status !== 200) {
    return h("div", { class: "ephemeral bad" }, `The application did not respond (${reply.status || "unreachable"}).`);
  }
  const body = reply.body || {};
  const data = body.data || {};
  const onlyYou = (data.flags & 64) ? h("span", { class: "only-you" }, "Only you can see this") : null;
  switch (body.type) {
    case 4:
      return h("div", { class: "ephemeral" }, rich(data.content || "", true), (data.embeds || []).map(embedView), onlyYou);
    case 5:
      if (action.original === null || action.original === undefined) {
        return h("div", { class: "ephemeral pending" }, "Support is thinking…", onlyYou);
      }
      return h("div", { class: "ephemeral" }, rich(action.original, true), onlyYou);
    case 9:
      return h("div", { class: "ephemeral form" }, `Opened the form “${data.title || data.custom_id}”`);
    case 6:
      return null;
    case 7:
      return h("div", { class: "ephemeral" }, "Updated the message", data.content ? [": ", rich(data.content, true)] : null);
    default:
      return h("div", { class: "ephemeral" }, `Answered with type ${body.type}`);
  }
}

function colour(value) {
  return typeof value === "number" ? "#" + value.toString(16).padStart(6, "0") : "#5865f2";
}

function embedView(embed) {
  return h("div", { class: "embed", style: `border-left-color: ${colour(embed.color)}` },
    embed.title ? h("div", { class: "embed-title" }, embed.title) : null,
    embed.description ? h("div", { class: "embed-description" }, rich(embed.description, true)) : null,
    (embed.fields || []).map((field) => h("div", { class: "embed-field" + (field.inline ? " inline" : "") },
      h("div", { class: "embed-field-name" }, rich(field.name, true)),
      h("div", { class: "embed-field-value" }, rich(field.value, true)))),
    embed.footer && embed.footer.text ? h("div", { class: "embed-footer" }, embed.footer.text) : null);
}

function messageView(message) {
  const rows = Array.isArray(message.components) ? message.components : [];
  const embeds = Array.isArray(message.embeds) ? message.embeds : [];
  return h("div", { class: "dmsg", dataset: { messageId: message.id } },
    h("div", { class: "author" }, "Emberfall Support ", h("span", { class: "app" }, "APP")),
    message.content ? h("div", { class: "content" }, rich(message.content, true)) : null,
    embeds.map(embedView),
    rows.map((row) => h("div", { class: "drow" },
      (row.components || []).map((component) => buttonView(message, component)))));
}

function buttonView(message, component) {
  if (component.type !== 2) return null;
  if (component.style === 5) {
    return h("a", { class: "dbutton style-5", href: component.url, target: "_blank", rel: "noopener noreferrer" }, component.label || "Link");
  }
  return h("button", {
    class: `dbutton style-${component.style || 2}`,
    disabled: !!component.disabled,
    dataset: { customId: component.custom_id },
    onclick: () => click(message, component),
  }, component.label || component.custom_id);
}

function discordIdentity() {
  const user = currentDiscord();
  if (!user) {
    toast("Add a user first.");
    throw new Error("no user");
  }
  return { user_id: user.id, username: user.username };
}

async function click(message, component) {
  const reply = await api("POST", "/sandbox/discord/click", {
    ...discordIdentity(), message_id: message.id, custom_id: component.custom_id,
  });
  answered(reply);
}

/** Opens the form the bridge answered with, or says the bridge failed. */
function answered(reply) {
  if (!reply) return;
  if (reply.status !== 200) toast(`The bridge answered the interaction with ${reply.status || "nothing"}`);
  else if (reply.body && reply.body.type === 9) openModal(reply.body.data || {});
  refresh();
}

const COMMAND_OPTIONS = {
  helpme: { name: "question", placeholder: "What do you need help with?", required: true },
  reply: { name: "message", placeholder: "Your message to the agent", required: true },
  bug: null,
  new_feature: null,
  cases: { name: "id", placeholder: "CS-1001 (optional: all your cases without it)", required: false },
};

function commandChanged() {
  const option = COMMAND_OPTIONS[$("discord-command").value];
  $("discord-option-name").textContent = option ? option.name + ":" : "";
  $("discord-option").hidden = !option;
  $("discord-option").placeholder = option ? option.placeholder : "";
  $("discord-option").required = !!(option && option.required);
}
$("discord-command").addEventListener("change", commandChanged);
commandChanged();

$("discord-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const name = $("discord-command").value;
  const option = COMMAND_OPTIONS[name];
  const options = {};
  const value = $("discord-option").value.trim();
  if (option && value) options[option.name] = value;
  if (option && option.required && !value) return toast(`/${name} needs ${option.name}`);
  const identity = discordIdentity();
  $("discord-option").value = "";
  const sending = api("POST", "/sandbox/discord/command", {
    ...identity, in_guild: $("discord-in-guild").checked, name, options,
  });
  setTimeout(refresh, 50);
  answered(await sending);
});

$("discord-user").addEventListener("change", (e) => {
  select("discord", e.target.value);
  render();
});

$("discord-create").addEventListener("click", async () => {
  const id = $("discord-new-id").value.trim() || "8" + randomDigits(17);
  const name = $("discord-new-name").value.trim().replace(/^@/, "") || "user" + id.slice(-4);
  await api("POST", "/console/api/customers", { platform: "discord", id, name });
  select("discord", id);
  $("discord-new-id").value = "";
  $("discord-new-name").value = "";
  $("discord-create").closest("details").open = false;
  await refresh();
});

// The modal (form) the bridge answered with: both shapes, label (type 18) and action row (1).
let modal = null;

function openModal(data) {
  const fields = [];
  let labelShape = false;
  const field = (label, description, input) => {
    if (!input || input.type !== 4) return;
    const attrs = {
      id: "modal-field-" + input.custom_id,
      dataset: { fieldId: input.custom_id },
      placeholder: input.placeholder || null,
      maxlength: input.max_length || null,
      minlength: input.min_length || null,
      required: input.required !== false,
    };
    const control = input.style === 2 ? h("textarea", { ...attrs, rows: 4 }) : h("input", attrs);
    control.value = input.value || "";
    fields.push(h("label", { class: "field", for: attrs.id },
      h("span", { class: "field-label" }, label || input.label || input.custom_id, attrs.required ? h("span", { class: "required" }, " *") : null),
      description ? h("span", { class: "field-description" }, description) : null,
      control));
  };
  for (const component of data.components || []) {
    if (component.type === 18) {
      labelShape = true;
      field(component.label, component.description, component.component);
    } else if (component.type === 1) {
      for (const input of component.components || []) field(input.label, null, input);
    }
  }
  modal = { custom_id: data.custom_id, label_shape: labelShape };
  $("modal-title").textContent = data.title || "Form";
  $("modal-fields").replaceChildren(...fields);
  $("modal").hidden = false;
  const first = $("modal-fields").querySelector("input, textarea");
  if (first) first.focus();
}

function closeModal() {
  $("modal").hidden = true;
  modal = null;
}

$("modal-cancel").addEventListener("click", closeModal);
$("modal").addEventListener("keydown", (e) => { if (e.key === "Escape") closeModal(); });
$("modal-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!modal) return;
  const fields = {};
  for (const control of $("modal-fields").querySelectorAll("[data-field-id]")) {
    fields[control.dataset.fieldId] = control.value;
  }
  const request = { ...discordIdentity(), custom_id: modal.custom_id, fields, label_shape: modal.label_shape };
  closeModal();
  answered(await api("POST", "/sandbox/discord/modal", request));
});

// ---------------------------------------------------------------------------------------------
// Agent desk

const agentName = $("agent-name");
agentName.value = localStorage.getItem("agent") || agentName.value;
agentName.addEventListener("change", () => localStorage.setItem("agent", agentName.value.trim()));

const STATUS_ORDER = { pending: 0, assigned: 1, completed: 2 };

function sortedTasks() {
  return state.tasks
    .map((task, index) => ({ task, index }))
    .sort((a, b) => (STATUS_ORDER[a.task.assignment_status] ?? 3) - (STATUS_ORDER[b.task.assignment_status] ?? 3)
      || b.index - a.index)
    .map((t) => t.task);
}

function taskStatus(task) {
  if (task.assignment_status === "pending") return "waiting for an agent";
  if (task.assignment_status === "assigned") return `with ${task.agent ? task.agent.friendly_name : "an agent"}`;
  if (task.assignment_status === "completed") return "completed";
  return task.assignment_status;
}

function caseById(id) {
  return state.cases.find((c) => c.id === id);
}

function renderDesk() {
  const tasks = sortedTasks();
  if (changed("task-list", [tasks.map((t) => [t.sid, t.assignment_status, t.agent, t.attributes]), ui.task])) {
    const items = tasks.map((task) => {
      const a = task.attributes || {};
      return h("li", {
        class: `task ${task.assignment_status}` + (task.sid === ui.task ? " selected" : ""),
        dataset: { sid: task.sid, platform: a.customChannelType || "", status: task.assignment_status, caseId: a.caseId || "" },
        onclick: () => { select("task", task.sid); render(); },
      },
      h("div", { class: "task-top" },
        h("span", { class: "badge " + (a.customChannelType || "") }, PLATFORMS[a.customChannelType] || a.customChannelType || "?"),
        h("strong", {}, a.customerName || a.from || "customer")),
      h("div", { class: "task-sub" }, a.caseId ? a.caseId + " · " : "", taskStatus(task)));
    });
    $("task-list").replaceChildren(...(items.length ? items : [h("li", { class: "empty" }, "No tasks yet.")]));
  }
  renderTask();
}

function messageKind(message, conversation, task) {
  const attrs = parse(message.attributes);
  const a = (task && task.attributes) || {};
  if (message.author === a.customerAddress || message.author === a.from || /^(x|discord)-/.test(message.author)) return "customer";
  if (message.author === state.bot_name || (attrs.flex_bridge && attrs.flex_bridge.bot)) return "bot";
  const participant = conversation.participants.find((p) => p.identity === message.author);
  if (message.source === "SDK" || (participant && parse(participant.attributes).member_type === "agent")) return "agent";
  return "system";
}

function authorName(kind, message, conversation, task) {
  if (kind === "customer") return (task && task.attributes.customerName) || customerName(message.author);
  if (kind === "bot") return message.author;
  const participant = conversation.participants.find((p) => p.identity === message.author);
  return (participant && parse(participant.attributes).friendly_name) || message.author;
}

function renderTask() {
  const task = state.tasks.find((t) => t.sid === ui.task);
  $("task-empty").hidden = !!task;
  $("task-panel").hidden = !task;
  if (!task) return;
  const a = task.attributes || {};
  const conversation = state.conversations.find((c) => c.sid === task.conversation_sid);
  const theCase = caseById(a.caseId);
  const status = task.assignment_status;

  $("accept-task").hidden = status !== "pending";
  $("end-chat").hidden = status !== "assigned";
  for (const el of $("reply-form").elements) el.disabled = status !== "assigned";
  $("reply-input").placeholder = status === "assigned"
    ? "Reply to the customer (Enter sends, Shift+Enter for a new line)"
    : status === "pending" ? "Accept the task to reply" : "The chat has ended";

  if (changed("task-header", [task, theCase && [theCase.status, theCase.satisfaction]])) {
    $("task-header").replaceChildren(
      h("div", { class: "task-title" },
        h("span", { class: "badge " + (a.customChannelType || "") }, PLATFORMS[a.customChannelType] || "?"),
        h("strong", {}, a.customerName || a.from),
        h("span", { class: "task-state " + status, id: "task-status", dataset: { status } }, taskStatus(task))),
      h("div", { class: "task-meta" },
        a.caseId ? h("span", { id: "task-case", dataset: { caseId: a.caseId } }, `Case ${a.caseId}` + (theCase ? ` · ${theCase.status.replace("_", " ")}` : "")) : null,
        h("span", { class: "muted", title: `task ${task.sid}, conversation ${task.conversation_sid}` },
          ` · conversation ${task.conversation_sid}`)));
    const csat = $("task-csat");
    if (theCase && theCase.satisfaction) {
      const score = theCase.satisfaction.score;
      csat.dataset.score = score;
      csat.replaceChildren("Satisfaction ", h("span", { class: "stars" }, "★".repeat(score) + "☆".repeat(5 - score)), ` ${score}/5`);
    } else {
      delete csat.dataset.score;
      csat.textContent = status === "completed" && theCase ? "Waiting for the customer's rating…" : "";
    }
  }

  if (!changed("transcript", [task.sid, conversation, state.bot_name])) return;
  const items = [];
  for (const message of (conversation ? conversation.messages : [])) {
    const kind = messageKind(message, conversation, task);
    const attrs = parse(message.attributes);
    let note = null;
    if (attrs.quick_reply) note = `replied “${attrs.quick_reply}” to the options`;
    if (attrs.agent_requested) note = "asked for an agent";
    items.push(h("div", { class: "msg " + kind, dataset: { kind } },
      h("div", { class: "author" }, authorName(kind, message, conversation, task),
        kind === "bot" ? h("span", { class: "tag" }, "virtual agent") : null),
      h("div", { class: "body" }, rich(message.body, false)),
      note ? h("div", { class: "note" }, note) : null));
  }
  if (conversation && conversation.state === "closed") {
    items.push(h("div", { class: "msg event" }, "The conversation is closed."));
  }
  refill($("transcript"), items);
}

$("accept-task").addEventListener("click", async () => {
  const agent = agentName.value.trim() || "Sam Rivera";
  localStorage.setItem("agent", agent);
  await api("POST", `/sandbox/tasks/${encodeURIComponent(ui.task)}/accept`, { agent });
  await refresh();
  $("reply-input").focus();
});

$("end-chat").addEventListener("click", async () => {
  await api("POST", `/sandbox/tasks/${encodeURIComponent(ui.task)}/complete`);
  await refresh();
});

$("reply-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = $("reply-input").value;
  if (!body.trim()) return;
  $("reply-input").value = "";
  try {
    await api("POST", `/sandbox/tasks/${encodeURIComponent(ui.task)}/reply`, { body });
  } catch (err) {
    $("reply-input").value = body;
    throw err;
  }
  await refresh();
});

$("reply-input").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey) {
    e.preventDefault();
    $("reply-form").requestSubmit();
  }
});

$("insert-options").addEventListener("click", () => {
  const input = $("reply-input");
  input.value = (input.value.trimEnd() + " Options: Yes - please, No - thanks").trimStart();
  input.focus();
});

// ---------------------------------------------------------------------------------------------
// Cases

function renderCases() {
  $("cases-error").hidden = !state.cases_error;
  $("cases-error").textContent = state.cases_error || "";
  const cases = state.cases;
  const names = cases.map((c) => customerName(c.reporter));
  if (changed("cases-table", [cases.map((c) => [c.id, c.kind, c.status, c.reporter, c.title, c.satisfaction]), names, ui.caseId])) {
    $("cases-empty").hidden = cases.length > 0;
    $("cases-body").replaceChildren(...cases.map((c, i) => h("tr", {
      class: "case" + (c.id === ui.caseId ? " selected" : ""),
      dataset: { caseId: c.id, status: c.status },
      onclick: () => { select("caseId", c.id); render(); },
    },
    h("td", { class: "id" }, c.id),
    h("td", { class: "kind" }, c.kind),
    h("td", {}, h("span", { class: "status status-" + c.status }, c.status.replace("_", " "))),
    h("td", { class: "reporter" }, h("span", { class: "badge " + c.reporter.split("-")[0] }, PLATFORMS[c.reporter.split("-")[0]] || "?"), " ", names[i]),
    h("td", { class: "title" }, c.title),
    h("td", { class: "csat", dataset: { score: c.satisfaction ? c.satisfaction.score : "" } },
      c.satisfaction ? h("span", {}, h("span", { class: "stars" }, "★".repeat(c.satisfaction.score)), ` ${c.satisfaction.score}/5`) : "—"))));
  }
  const theCase = caseById(ui.caseId);
  $("case-panel").hidden = !theCase;
  if (!theCase) return;
  $("case-resolve").disabled = theCase.status === "resolved";
  $("case-reopen").disabled = theCase.status !== "resolved";
  if (!changed("case-detail", theCase)) return;
  $("case-detail").replaceChildren(...[
    h("h3", {}, `${theCase.id} · ${theCase.title}`),
    h("p", { class: "muted" }, `${theCase.kind} · ${theCase.status.replace("_", " ")} · reported by ${customerName(theCase.reporter)} (${theCase.reporter}) · opened ${time(theCase.opened_at)}`),
    theCase.details ? h("div", { class: "case-text" }, h("strong", {}, "Details"), h("div", {}, theCase.details)) : null,
    theCase.steps ? h("div", { class: "case-text" }, h("strong", {}, "Steps to reproduce"), h("div", {}, theCase.steps)) : null,
    theCase.satisfaction ? h("p", {}, `Satisfaction ${theCase.satisfaction.score}/5, ${time(theCase.satisfaction.at)}`) : null,
    theCase.conversations.length ? h("p", { class: "muted" }, "Conversations: " + theCase.conversations.join(", ")) : null,
    h("table", { class: "timeline" },
      h("thead", {}, h("tr", {}, h("th", {}, "When"), h("th", {}, "What"), h("th", {}, "Who"))),
      h("tbody", {}, theCase.timeline.map((entry) => h("tr", {},
        h("td", { class: "when" }, time(entry.at)), h("td", {}, entry.event), h("td", {}, entry.by))))),
  ].filter(Boolean));
}

async function caseAction(action) {
  const id = ui.caseId;
  const note = $("case-note").value.trim();
  await api("POST", `/console/api/cases/${encodeURIComponent(id)}/${action}`, { note });
  $("case-note").value = "";
  toast(`${id} ${action === "resolve" ? "resolved" : "reopened"}`, "ok");
  await refresh();
}

$("case-resolve").addEventListener("click", () => caseAction("resolve"));
$("case-reopen").addEventListener("click", () => caseAction("reopen"));

// Unhandled refusals were already shown as a toast.
window.addEventListener("unhandledrejection", (e) => e.preventDefault());

connect();
