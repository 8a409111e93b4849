// The page's DOM: one pane per room (its log and member list) and its tab. Every text a user or
// the server sent goes in through textContent, never as HTML.

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function clock(date) {
  return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false });
}

/** Lines from one sender this close together are one message shown on several lines. */
const SAME_MESSAGE_MS = 1500;

export class Pane {
  /** `key`: the folded channel or nick; `label`: the room's (or person's) own name. */
  constructor(key, label, tabs, panes, onSelect) {
    this.key = key;
    this.label = label;
    /** The channel this pane is, once joined; null for a private conversation or the server's pane. */
    this.channel = null;
    this.pendingLines = [];
    this.unread = 0;
    this.members = new Map();
    this.last = null;
    this.tab = element('li', 'tab');
    this.tab.dataset.room = label;
    const button = element('button', 'tab-button');
    button.type = 'button';
    this.tabLabel = element('span', 'tab-name', label);
    this.badge = element('span', 'unread');
    this.badge.hidden = true;
    button.append(this.tabLabel, this.badge);
    button.addEventListener('click', () => onSelect(this));
    this.tab.append(button);
    tabs.append(this.tab);

    this.root = element('section', 'pane');
    this.root.dataset.room = label;
    this.root.hidden = true;
    this.topic = element('p', 'topic');
    this.log = element('ol', 'log');
    this.log.setAttribute('aria-live', 'polite');
    const side = element('aside', 'members');
    this.memberCount = element('h2', 'member-count');
    this.memberList = element('ul', 'member-list');
    side.append(this.memberCount, this.memberList);
    const body = element('div', 'pane-body');
    body.append(this.log, side);
    this.root.append(this.topic, body);
    panes.append(this.root);
  }

  show(visible) {
    this.root.hidden = !visible;
    this.tab.classList.toggle('active', visible);
    if (visible) {
      this.unread = 0;
      this.badge.hidden = true;
      this.scroll(true);
    }
  }

  countUnread() {
    this.unread++;
    this.badge.textContent = String(this.unread);
    this.badge.hidden = false;
  }

  remove() {
    this.tab.remove();
    this.root.remove();
  }

  scroll(force) {
    const near = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 80;
    if (force || near) this.log.scrollTop = this.log.scrollHeight;
  }

  /** A chat line: joined to the sender's last message when it follows it closely (multi-line messages). */
  message(from, text, time, { own = false, pending = false, action = false } = {}) {
    const last = this.last;
    if (last && !action && !last.action && last.from === from && !last.pending && !pending && time - last.time < SAME_MESSAGE_MS) {
      last.body.append(element('span', 'line', text));
      last.time = time;
      this.scroll(false);
      return last;
    }
    const item = element('li', `msg${own ? ' own' : ''}${pending ? ' pending' : ''}${action ? ' action' : ''}`);
    const stamp = element('time', 'time', clock(time));
    stamp.dateTime = time.toISOString();
    const body = element('span', 'text');
    body.append(element('span', 'line', text));
    item.append(stamp, element('span', 'from', from), body);
    this.log.append(item);
    const entry = { item, body, from, time, pending, action, text };
    this.last = entry;
    this.scroll(own);
    return entry;
  }

  /** A line of the page's own (joins, leaves, errors): never joined to a message. */
  notice(text, kind = 'notice', time = new Date()) {
    const item = element('li', kind);
    const stamp = element('time', 'time', clock(time));
    stamp.dateTime = time.toISOString();
    item.append(stamp, element('span', 'text', text));
    this.log.append(item);
    this.last = null;
    this.scroll(false);
  }

  setTopic(text) {
    this.topic.textContent = text;
    this.topic.hidden = text === '';
  }

  setMembers(names) {
    this.members = new Map(names.map((name) => [name.toLowerCase(), name]));
    this.drawMembers();
  }

  addMember(name) {
    this.members.set(name.toLowerCase(), name);
    this.drawMembers();
  }

  removeMember(name) {
    const had = this.members.delete(name.toLowerCase());
    if (had) this.drawMembers();
    return had;
  }

  hasMember(name) {
    return this.members.has(name.toLowerCase());
  }

  drawMembers() {
    const names = [...this.members.values()].sort((a, b) => a.localeCompare(b, undefined, { sensitivity: 'base' }));
    this.memberCount.textContent = `${names.length} ${names.length === 1 ? 'member' : 'members'}`;
    this.memberList.replaceChildren(...names.map((name) => element('li', 'member', name)));
  }
}

/** The room directory (LIST): name, members, topic; a click joins. */
export function drawDirectory(list, rooms, onJoin) {
  const items = rooms
    .sort((a, b) => b.users - a.users || a.name.localeCompare(b.name))
    .map((room) => {
      const item = element('li', 'directory-room');
      const button = element('button', 'join-room');
      button.type = 'button';
      button.append(element('span', 'directory-name', room.name), element('span', 'directory-users', String(room.users)));
      button.addEventListener('click', () => onJoin(room.name));
      item.append(button);
      if (room.topic) item.append(element('span', 'directory-topic', room.topic));
      return item;
    });
  list.replaceChildren(...items);
  if (items.length === 0) list.append(element('li', 'directory-empty', 'No rooms yet: join one to make it.'));
}
