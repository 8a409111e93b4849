// The chat page: IRC over the server's WebSocket (IRCv3 text.ircv3.net), one pane per room.
import { buildLine, channelOf, fold, messageLines, parseLine, readText } from './irc.js';
import { Pane, drawDirectory } from './view.js';

const $ = (id) => document.getElementById(id);
const CAPS_WANTED = ['server-time', 'echo-message', 'message-tags'];
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30_000;

const state = {
  socket: null,
  nick: '',
  wantedNick: '',
  registered: false,
  /** Signed in once: a nick refused from now on is a reconnect's, answered with another nick. */
  signedIn: false,
  /** Rooms joined (channel names), kept across reconnects to join them again. */
  rooms: [],
  panes: new Map(),
  active: null,
  retries: 0,
  retryTimer: null,
  names: new Map(),
  listing: [],
  closing: false,
};

function socketUrl() {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`;
}

function send(line) {
  if (state.socket && state.socket.readyState === WebSocket.OPEN) state.socket.send(line);
}

function setStatus(text) {
  $('status').textContent = text;
}

function paneFor(name, label = name) {
  const key = fold(name);
  let pane = state.panes.get(key);
  if (!pane) {
    pane = new Pane(name, label, $('room-tabs'), $('panes'), select);
    state.panes.set(key, pane);
    if (!state.active) select(pane);
  }
  return pane;
}

function select(pane) {
  state.active?.show(false);
  state.active = pane;
  pane.show(true);
  $('title').textContent = pane.channel ?? pane.label;
  document.body.classList.remove('menu-open');
  $('message').focus();
}

function currentPane() {
  return state.active ?? paneFor('*server', 'Server');
}

/** A line of ours in the current pane (or on the sign-in form before there is one). */
function problem(text) {
  if (!state.registered) {
    $('login-error').textContent = text;
    return;
  }
  currentPane().notice(text, 'error');
}

function timeOf(message) {
  const time = message.tags.time ? new Date(message.tags.time) : new Date();
  return Number.isNaN(time.getTime()) ? new Date() : time;
}

function isMe(nick) {
  return nick !== null && fold(nick) === fold(state.nick);
}

function connect() {
  clearTimeout(state.retryTimer);
  setStatus('Connecting…');
  const socket = new WebSocket(socketUrl(), ['text.ircv3.net']);
  state.socket = socket;
  state.registered = false;
  socket.addEventListener('open', () => {
    setStatus('Signing in…');
    send('CAP LS 302');
    send(`NICK ${state.wantedNick}`);
    send(buildLine('USER', 'web', '0', '*', 'Web chat user'));
  });
  socket.addEventListener('message', (event) => {
    for (const line of String(event.data).split(/\r?\n/)) {
      const message = parseLine(line);
      if (message) handle(message);
    }
  });
  socket.addEventListener('close', () => {
    if (state.socket !== socket) return;
    state.socket = null;
    if (state.closing) return;
    const wait = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** state.retries) * (0.8 + Math.random() * 0.4);
    state.retries++;
    const seconds = Math.max(1, Math.round(wait / 1000));
    setStatus(`Disconnected: reconnecting in ${seconds} s`);
    if (state.registered || state.panes.size > 0) currentPane().notice(`Disconnected from the server; reconnecting in ${seconds} s.`, 'error');
    state.retryTimer = setTimeout(connect, wait);
  });
}

function registered(nick) {
  state.registered = true;
  state.signedIn = true;
  state.retries = 0;
  state.nick = nick;
  $('login').hidden = true;
  $('chat').hidden = false;
  $('me').textContent = nick;
  setStatus('Connected');
  if (state.rooms.length > 0) send(`JOIN ${state.rooms.join(',')}`);
  else if (state.panes.size === 0) join($('autojoin').value || 'lobby');
  send('LIST');
}

function join(text) {
  for (const name of text.split(',').map((item) => item.trim()).filter((item) => item !== '')) {
    const channel = channelOf(name);
    if (channel === null) problem(`"${name}" cannot be joined from here: room names for the web page have no spaces or commas.`);
    else send(`JOIN ${channel}`);
  }
}

function roomName(channel) {
  return channel.startsWith('#') ? channel.slice(1) : channel;
}

function handle(message) {
  const { command, params, nick } = message;
  switch (command) {
    case 'PING':
      send(buildLine('PONG', params[0] ?? ''));
      return;
    case 'CAP':
      return capability(params);
    case '001':
      return registered(params[0]);
    case 'JOIN': {
      const channel = params[0];
      const pane = paneFor(channel, roomName(channel));
      if (isMe(nick)) {
        if (!state.rooms.some((room) => fold(room) === fold(channel))) state.rooms.push(channel);
        pane.channel = channel;
        pane.notice(`You joined ${roomName(channel)}.`);
        select(pane);
        // The directory's counts have changed (and the room may be new).
        send('LIST');
      } else {
        pane.addMember(nick);
        pane.notice(`${nick} joined.`, 'notice', timeOf(message));
      }
      return;
    }
    case 'PART': {
      const pane = state.panes.get(fold(params[0]));
      if (!pane) return;
      if (isMe(nick)) return leaveRoom(pane, params[0]);
      pane.removeMember(nick);
      pane.notice(`${nick} left${params[1] ? ` (${params[1]})` : ''}.`, 'notice', timeOf(message));
      return;
    }
    case 'QUIT':
      for (const pane of state.panes.values()) {
        if (pane.removeMember(nick)) pane.notice(`${nick} quit${params[0] ? ` (${params[0]})` : ''}.`, 'notice', timeOf(message));
      }
      return;
    case 'NICK':
      if (isMe(nick)) {
        state.nick = params[0];
        $('me').textContent = params[0];
      }
      for (const pane of state.panes.values()) {
        if (pane.removeMember(nick)) {
          pane.addMember(params[0]);
          pane.notice(`${nick} is now ${params[0]}.`);
        }
      }
      return;
    case 'PRIVMSG':
    case 'NOTICE':
      return chat(message);
    case 'TOPIC': {
      const pane = state.panes.get(fold(params[0]));
      pane?.setTopic(params[1] ?? '');
      pane?.notice(`${nick} set the topic: ${params[1] ?? ''}`);
      return;
    }
    case '332':
      state.panes.get(fold(params[1]))?.setTopic(params[2] ?? '');
      return;
    case '353': {
      const channel = fold(params[2]);
      const names = (params[3] ?? '').split(' ').filter((name) => name !== '').map((name) => name.replace(/^[@+%&~]+/, '').split('!')[0]);
      state.names.set(channel, [...(state.names.get(channel) ?? []), ...names]);
      return;
    }
    case '366': {
      const channel = fold(params[1]);
      state.panes.get(channel)?.setMembers(state.names.get(channel) ?? []);
      state.names.delete(channel);
      return;
    }
    case '321':
      state.listing = [];
      return;
    case '322':
      state.listing.push({ name: roomName(params[1]), users: Number(params[2]) || 0, topic: params[3] ?? '' });
      return;
    case '323':
      drawDirectory($('room-list'), state.listing, join);
      return;
    case '433':
    case '432':
      if (!state.registered && state.signedIn) {
        // Back after a reconnect, and our old nick is not free yet: carry on under another.
        state.wantedNick = `${state.wantedNick.slice(0, 28)}_`;
        send(`NICK ${state.wantedNick}`);
        return;
      }
      problem(params[params.length - 1] ?? 'That nick cannot be used.');
      if (!state.registered) stop();
      return;
    case 'ERROR':
      problem(`The server closed the connection: ${params[0] ?? ''}`);
      return;
    case '422':
      // No message of the day: nothing to show.
      return;
    default:
      if (/^[45]\d\d$/.test(command)) problem(params.slice(1).join(' '));
  }
}

function capability(params) {
  const [, sub, ...rest] = params;
  const list = (rest[rest.length - 1] ?? '').split(' ');
  if (sub === 'LS' && rest.length === 1) {
    const wanted = CAPS_WANTED.filter((cap) => list.includes(cap));
    if (wanted.length > 0) send(`CAP REQ :${wanted.join(' ')}`);
    else send('CAP END');
  } else if (sub === 'ACK' || sub === 'NAK') send('CAP END');
}

function chat(message) {
  const { params, nick, command } = message;
  const [target, raw = ''] = params;
  if (message.source === null || !message.source.includes('!')) {
    // From the server itself (notices before sign-in and the like).
    currentPane().notice(raw);
    return;
  }
  const { text, action } = readText(raw);
  const own = isMe(nick);
  const toRoom = target.startsWith('#');
  const pane = toRoom ? state.panes.get(fold(target)) : paneFor(own ? target : nick);
  if (!pane) return;
  const time = timeOf(message);
  if (own) {
    // Our own line, confirmed by the server (echo-message): the grey copy becomes the real one.
    const waiting = pane.pendingLines.findIndex((entry) => entry.text === raw);
    if (waiting >= 0) {
      const [entry] = pane.pendingLines.splice(waiting, 1);
      entry.item.classList.remove('pending');
      entry.pending = false;
      return;
    }
  }
  const shown = action ? `${nick} ${text}` : text;
  pane.message(action ? '*' : command === 'NOTICE' ? `-${nick}-` : nick, shown, time, { own, action });
  if (pane !== state.active) pane.countUnread();
}

function leaveRoom(pane, channel) {
  state.rooms = state.rooms.filter((room) => fold(room) !== fold(channel));
  state.panes.delete(fold(channel));
  pane.remove();
  if (state.active === pane) {
    state.active = null;
    const next = state.panes.values().next().value;
    if (next) select(next);
    else $('title').textContent = '';
  }
}

function sendMessage(text) {
  if (text.startsWith('/')) return command(text);
  const pane = state.active;
  const target = pane?.channel ?? (pane && pane.key !== '*server' ? pane.label : null);
  if (!target) return problem('Join a room first.');
  for (const line of messageLines(target, text)) send(line);
  // Shown at once, grey until the server confirms each line (echo-message).
  for (const line of text.split(/\r?\n/).filter((item) => item.trim() !== '')) {
    const entry = pane.message(state.nick, line, new Date(), { own: true, pending: true });
    pane.pendingLines.push(entry);
  }
}

function command(text) {
  const [word, ...rest] = text.slice(1).split(' ');
  const argument = rest.join(' ').trim();
  const channel = state.active?.channel ?? null;
  switch (word.toLowerCase()) {
    case 'join':
      return join(argument);
    case 'part':
    case 'leave':
      if (channel) send(argument ? buildLine('PART', channel, argument) : `PART ${channel}`);
      return;
    case 'nick':
      if (argument) send(`NICK ${argument}`);
      return;
    case 'me':
      if (channel && argument) send(buildLine('PRIVMSG', channel, `\x01ACTION ${argument}\x01`));
      return;
    case 'topic':
      if (channel) send(argument ? buildLine('TOPIC', channel, argument) : `TOPIC ${channel}`);
      return;
    case 'msg': {
      const [nick, ...words] = argument.split(' ');
      if (nick && words.length > 0) send(buildLine('PRIVMSG', nick, words.join(' ')));
      return;
    }
    case 'list':
      send('LIST');
      return;
    default:
      problem(`Unknown command /${word}: try /join, /part, /nick, /me, /topic, /msg or /list.`);
  }
}

function stop() {
  state.closing = true;
  state.socket?.close();
}

function start(event) {
  event.preventDefault();
  const nick = $('nick').value.trim();
  if (!/^[A-Za-z[\]\\`_^{|}][A-Za-z0-9[\]\\`_^{|}-]{0,29}$/.test(nick)) {
    $('login-error').textContent = 'A nick is 1–30 letters, digits or []\\`_^{|}-, not starting with a digit or dash.';
    return;
  }
  $('login-error').textContent = '';
  state.wantedNick = nick;
  state.closing = false;
  connect();
}

function compose(event) {
  event.preventDefault();
  const box = $('message');
  const text = box.value;
  if (text.trim() === '') return;
  box.value = '';
  sendMessage(text);
}

$('login').addEventListener('submit', start);
$('compose').addEventListener('submit', compose);
$('message').addEventListener('keydown', (event) => {
  // Enter sends; Shift+Enter starts a new line of the same message.
  if (event.key === 'Enter' && !event.shiftKey) compose(event);
});
$('join-form').addEventListener('submit', (event) => {
  event.preventDefault();
  join($('join-name').value);
  $('join-name').value = '';
});
$('refresh-list').addEventListener('click', () => send('LIST'));
document.addEventListener('keydown', (event) => {
  // Alt+Up and Alt+Down go to the previous and next room, as in most IRC clients.
  if (!event.altKey || (event.key !== 'ArrowUp' && event.key !== 'ArrowDown')) return;
  const panes = [...state.panes.values()];
  if (panes.length < 2 || !state.active) return;
  event.preventDefault();
  const step = event.key === 'ArrowDown' ? 1 : -1;
  select(panes[(panes.indexOf(state.active) + step + panes.length) % panes.length]);
});
$('menu').addEventListener('click', () => document.body.classList.toggle('menu-open'));
$('nick').focus();
