// The chat page: sign in over HTTP (the session cookie), then talk over Socket.IO under that session.
// Every user-supplied string reaches the page through textContent, never as HTML.
// biome-ignore lint/suspicious/noRedundantUseStrict: a classic <script> (not a module), so this directive is what makes it strict
'use strict';

const $ = (id) => document.getElementById(id);

/** Consecutive messages of one author closer than this are grouped under one header. */
const GROUP_WINDOW_MS = 5 * 60 * 1000;

const ENDED_NOTICES = {
  // A sign-out in another tab, "Sign out" in "Your sessions" on another device, or a sign-in beyond the per-user limit.
  deleted: {
    title: 'Signed out elsewhere',
    text: 'You signed out of Relay in another tab, or from another device, so this page is signed out too.',
  },
  expired: {
    title: 'Session expired — sign in again',
    text: 'You were away for a while, so your session ended to keep your account safe.',
  },
};

const state = {
  me: null,
  socket: null,
  /** True while this tab signs out itself: its own `session:destroyed` is then expected, not news. */
  signingOut: false,
  lastMessage: null,
  /** Keys of shown messages: one that arrives both live and in the history is shown once. */
  shown: new Set(),
  /** Counts the loads of "Your sessions": the answer to an older load than the last is dropped. */
  sessionsLoad: 0,
};

function showView(name) {
  $('login-view').hidden = name !== 'login';
  $('chat-view').hidden = name !== 'chat';
}

function showError(element, message) {
  element.textContent = message || '';
  element.hidden = !message;
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  return { status: response.status, ok: response.ok, data };
}

// ----- Sign-in -----

function showLogin() {
  teardownSocket();
  state.me = null;
  hideSessions();
  $('session-ended').hidden = true;
  showView('login');
  showError($('login-error'), '');
  $('login-button').disabled = false;
  $('username').focus();
}

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const username = $('username').value.trim();
  if (!username) return showError($('login-error'), 'Please enter a name.');
  $('login-button').disabled = true;
  try {
    const response = await api('POST', '/api/login', { username });
    if (!response.ok) {
      const message = response.data?.message;
      return showError($('login-error'), Array.isArray(message) ? message.join(', ') : message || `Sign-in failed (${response.status})`);
    }
    enterChat(response.data.username);
  } catch {
    showError($('login-error'), 'The server cannot be reached. Try again in a moment.');
  } finally {
    $('login-button').disabled = false;
  }
});

$('logout-button').addEventListener('click', async () => {
  state.signingOut = true;
  try {
    await api('POST', '/api/logout');
  } finally {
    state.signingOut = false;
    showLogin();
  }
});

$('back-to-login').addEventListener('click', () => showLogin());

// ----- The room -----

function enterChat(username) {
  state.me = username;
  state.lastMessage = null;
  state.shown.clear();
  $('message-list').replaceChildren();
  $('me-name').textContent = username;
  paintAvatar($('me-avatar'), username);
  showError($('send-error'), '');
  showView('chat');
  connect();
  $('message-input').focus();
}

function connect() {
  teardownSocket();
  // WebSocket only: no sticky sessions needed when several instances sit behind a load balancer.
  const socket = io({ transports: ['websocket'] });
  state.socket = socket;
  setConnected(false);

  socket.on('connect', () => setConnected(true));
  socket.on('disconnect', (reason) => {
    setConnected(false);
    // The server closed us without a session notice (e.g. a session that never signed in).
    if (reason === 'io server disconnect' && !state.signingOut) window.setTimeout(() => state.socket === socket && showLogin(), 300);
  });
  socket.on('connect_error', (error) => {
    // The session ended while we were away (the server restarted, or it expired): ask for a new sign-in.
    if (error?.data?.code === 'SESSION_REQUIRED') sessionEnded('expired');
  });
  socket.on('history', (messages) => messages.forEach(addMessage));
  socket.on('message', addMessage);
  socket.on('presence', renderPresence);
  socket.on('session:destroyed', (payload) => sessionEnded(payload?.reason));
}

function teardownSocket() {
  if (!state.socket) return;
  state.socket.removeAllListeners();
  state.socket.disconnect();
  state.socket = null;
}

function setConnected(connected) {
  $('connection-status').hidden = connected || !state.socket;
  $('send-button').disabled = !connected;
}

function sessionEnded(reason) {
  if (state.signingOut) return;
  teardownSocket();
  hideSessions();
  const kind = reason === 'deleted' ? 'deleted' : 'expired';
  const notice = ENDED_NOTICES[kind];
  $('session-ended-icon').className = `dialog-icon ${kind}`;
  $('session-ended-title').textContent = notice.title;
  $('session-ended-text').textContent = notice.text;
  $('session-ended').dataset.reason = kind;
  $('session-ended').hidden = false;
  $('connection-status').hidden = true;
  $('back-to-login').focus();
}

// ----- Your sessions -----

$('sessions-button').addEventListener('click', () => openSessions());
$('sessions-close').addEventListener('click', () => closeSessions());
$('sessions-panel').addEventListener('click', (event) => {
  if (event.target === $('sessions-panel')) closeSessions();
});
$('sessions-panel').addEventListener('keydown', (event) => {
  if (event.key === 'Escape') closeSessions();
});

function openSessions() {
  $('session-list').replaceChildren();
  setSessionsStatus('');
  showError($('sessions-error'), '');
  $('revoke-others-button').disabled = true;
  $('sessions-panel').hidden = false;
  $('sessions-close').focus();
  loadSessions();
}

function closeSessions() {
  hideSessions();
  $('sessions-button').focus();
}

function hideSessions() {
  state.sessionsLoad++;
  $('sessions-panel').hidden = true;
}

function setSessionsStatus(message) {
  $('sessions-status').textContent = message;
}

async function loadSessions() {
  const load = ++state.sessionsLoad;
  const current = () => load === state.sessionsLoad;
  $('session-list').setAttribute('aria-busy', 'true');
  try {
    const response = await api('GET', '/api/sessions');
    if (!current()) return;
    if (!response.ok) {
      const message = response.status === 401 ? 'You are no longer signed in.' : `Your sessions could not be loaded (${response.status}).`;
      return showError($('sessions-error'), message);
    }
    showError($('sessions-error'), '');
    renderSessions(response.data.sessions);
  } catch {
    if (current()) showError($('sessions-error'), 'The server cannot be reached. Try again in a moment.');
  } finally {
    if (current()) $('session-list').setAttribute('aria-busy', 'false');
  }
}

function renderSessions(sessions) {
  const now = Date.now();
  // This device first, then the others as the server sends them (newest sign-in first).
  const ordered = [...sessions.filter((session) => session.current), ...sessions.filter((session) => !session.current)];
  $('session-list').replaceChildren(...ordered.map((session) => sessionRow(session, now)));
  $('revoke-others-button').disabled = !sessions.some((session) => !session.current);
}

function sessionRow(session, now) {
  const item = $('session-row-template').content.firstElementChild.cloneNode(true);
  item.dataset.handle = session.handle;
  item.classList.toggle('current', session.current);
  item.querySelector('.session-icon').classList.add(/\b(iPhone|iPad|Android)\b/.test(session.device) ? 'mobile' : 'desktop');
  item.querySelector('.session-device').textContent = session.device;
  item.querySelector('.this-device').hidden = !session.current;

  const lastActive = new Date(session.lastActiveAt);
  const active = item.querySelector('.session-active');
  active.dateTime = session.lastActiveAt;
  active.title = lastActive.toLocaleString();
  active.textContent = activeAgo(lastActive, now);
  const createdAt = new Date(session.createdAt);
  const created = item.querySelector('.session-created');
  created.dateTime = session.createdAt;
  created.title = createdAt.toLocaleString();
  created.textContent = createdAt.toLocaleString([], { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });

  const revoke = item.querySelector('.session-revoke');
  if (session.current) {
    // This device signs out with the top bar's button.
    revoke.remove();
  } else {
    revoke.setAttribute('aria-label', `Sign out ${session.device}, ${active.textContent}`);
    revoke.addEventListener('click', () => revokeSession(session.handle, revoke));
  }
  return item;
}

/** "Active now", "Active 5 min ago", "Active 3 h ago", "Active 2 days ago" (a clock ahead of ours counts as now). */
function activeAgo(at, now) {
  const minutes = Math.floor((now - at) / 60_000);
  if (minutes < 1) return 'Active now';
  if (minutes < 60) return `Active ${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `Active ${hours} h ago`;
  const days = Math.floor(hours / 24);
  return `Active ${days} ${days === 1 ? 'day' : 'days'} ago`;
}

async function revokeSession(handle, button) {
  button.disabled = true;
  await sessionsAction(`/api/sessions/${encodeURIComponent(handle)}/revoke`, (response) =>
    // 404: it ended meanwhile (signed out there, or expired); the refreshed list shows it gone either way.
    response.status === 404 ? 'That session had already ended.' : 'Signed out that device.',
  );
}

$('revoke-others-button').addEventListener('click', async () => {
  $('revoke-others-button').disabled = true;
  await sessionsAction('/api/sessions/revoke-others', (response) => {
    const count = response.data?.revoked ?? 0;
    return `Signed out ${count} other ${count === 1 ? 'session' : 'sessions'}.`;
  });
});

/** Posts one action, says how it went, and loads the list again. */
async function sessionsAction(path, describeDone) {
  setSessionsStatus('');
  try {
    const response = await api('POST', path);
    if (response.ok || response.status === 404) {
      showError($('sessions-error'), '');
      setSessionsStatus(describeDone(response));
    } else {
      showError($('sessions-error'), response.status === 401 ? 'You are no longer signed in.' : `That did not work (${response.status}). Try again.`);
    }
  } catch {
    showError($('sessions-error'), 'The server cannot be reached. Try again in a moment.');
  }
  if (!$('sessions-panel').hidden) await loadSessions();
}

// ----- Messages -----

$('composer').addEventListener('submit', (event) => {
  event.preventDefault();
  sendMessage();
});

$('message-input').addEventListener('keydown', (event) => {
  // Enter sends, Shift+Enter starts a new line.
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    sendMessage();
  }
});

$('message-input').addEventListener('input', () => autoGrow($('message-input')));

function sendMessage() {
  const input = $('message-input');
  const text = input.value;
  if (!text.trim() || !state.socket?.connected) return;
  $('send-button').disabled = true;
  state.socket.timeout(5000).emit('message', { text }, (error, ack) => {
    $('send-button').disabled = !state.socket?.connected;
    if (error) return showError($('send-error'), 'Not sent: the server did not answer. Try again.');
    if (ack?.error) return showError($('send-error'), ack.error);
    showError($('send-error'), '');
    input.value = '';
    autoGrow(input);
    input.focus();
  });
}

function addMessage(message) {
  const key = `${message.at}|${message.username}|${message.text}`;
  if (state.shown.has(key)) return;
  state.shown.add(key);

  const at = new Date(message.at);
  const previous = state.lastMessage;
  const continued = previous && previous.username === message.username && at - previous.at < GROUP_WINDOW_MS;
  state.lastMessage = { username: message.username, at };

  const item = document.createElement('li');
  item.className = `message ${continued ? 'continued' : 'first'}${message.username === state.me ? ' mine' : ''}`;

  const avatar = document.createElement('span');
  avatar.className = 'avatar';
  avatar.setAttribute('aria-hidden', 'true');
  paintAvatar(avatar, message.username);

  const body = document.createElement('div');
  if (!continued) {
    const meta = document.createElement('div');
    meta.className = 'message-meta';
    const author = document.createElement('span');
    author.className = 'message-author';
    author.textContent = message.username;
    const time = document.createElement('time');
    time.className = 'message-time';
    time.dateTime = message.at;
    time.title = at.toLocaleString();
    time.textContent = at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    meta.append(author, time);
    body.append(meta);
  }
  const text = document.createElement('p');
  text.className = 'message-text';
  text.textContent = message.text;
  body.append(text);

  item.append(avatar, body);
  const scroller = $('message-scroller');
  const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
  $('message-list').append(item);
  if (atBottom || message.username === state.me) scroller.scrollTop = scroller.scrollHeight;
}

function renderPresence(usernames) {
  const list = $('online-list');
  list.replaceChildren(
    ...usernames.map((username) => {
      const item = document.createElement('li');
      const avatar = document.createElement('span');
      avatar.className = 'avatar small';
      avatar.setAttribute('aria-hidden', 'true');
      paintAvatar(avatar, username);
      const name = document.createElement('span');
      name.className = 'name';
      name.textContent = username;
      item.append(avatar, name);
      if (username === state.me) {
        const you = document.createElement('span');
        you.className = 'you';
        you.textContent = 'you';
        item.append(you);
      }
      return item;
    }),
  );
  $('online-count').textContent = String(usernames.length);
}

/** Well-separated hues: two people rarely share a colour. */
const AVATAR_HUES = [8, 32, 145, 172, 200, 228, 262, 292, 325];

/** An initial on a colour derived from the name, so a person keeps their colour everywhere. */
function paintAvatar(element, username) {
  let hash = 2166136261; // FNV-1a: spreads similar names apart
  for (const char of username) hash = Math.imul(hash ^ char.codePointAt(0), 16777619) >>> 0;
  element.style.setProperty('--hue', String(AVATAR_HUES[hash % AVATAR_HUES.length]));
  element.textContent = Array.from(username)[0] || '?';
}

function autoGrow(textarea) {
  textarea.style.height = 'auto';
  textarea.style.height = `${Math.min(textarea.scrollHeight, 160)}px`;
}

// ----- Start: already signed in (this tab, another tab, or another instance)? -----

(async () => {
  try {
    const response = await api('GET', '/api/me');
    if (response.ok) return enterChat(response.data.username);
  } catch {
    /* shown as signed out */
  }
  showLogin();
})();
