// Wires the page together: login, hash routing, search-as-you-type, the player bar and the queue.

import { ApiError, Subsonic } from './api.js';
import { h, icon, icons } from './dom.js';
import { Player } from './player.js';
import { formatTime, isAvailable } from './songs.js';
import { albumView, artistView, cover, homeView, searchView } from './views.js';

const $ = (sel) => document.querySelector(sel);
const SEARCH_DELAY_MS = 180;

const ctx = { api: null, player: null, toast };

function toast(message, kind = 'info') {
  const t = h('div', { class: `toast ${kind}`, role: 'status' }, message);
  $('#toasts').append(t);
  setTimeout(() => t.classList.add('gone'), 2600);
  setTimeout(() => t.remove(), 3000);
}

// ---------- login ----------

function showLogin(message) {
  document.body.classList.add('logged-out');
  $('#login-error').textContent = message || '';
  $('#login-user').focus();
}

$('#login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const btn = $('#login-submit');
  btn.disabled = true;
  $('#login-error').textContent = '';
  try {
    const api = await Subsonic.login($('#login-user').value.trim(), $('#login-pass').value);
    $('#login-pass').value = '';
    start(api);
  } catch (err) {
    $('#login-error').textContent = err instanceof ApiError && err.code === 40
      ? 'Wrong username or password.'
      : `Cannot sign in: ${err.message}`;
  } finally {
    btn.disabled = false;
  }
});

$('#logout').addEventListener('click', () => {
  ctx.player?.clear();
  Subsonic.logout();
  location.hash = '#/';
  showLogin();
});

// ---------- routing ----------

let renderToken = 0;
let searchAbort = null;

async function render() {
  if (!ctx.api) return;
  const token = ++renderToken;
  const [, kind, ...rest] = (location.hash || '#/').slice(1).split('/');
  const arg = decodeURIComponent(rest.join('/'));
  const view = $('#view');
  if (searchAbort) searchAbort.abort();
  let page;
  try {
    view.setAttribute('aria-busy', 'true');
    if (kind === 'search' && arg) {
      searchAbort = new AbortController();
      if ($('#search').value !== arg) $('#search').value = arg;
      page = await searchView(ctx, arg, searchAbort.signal);
    } else if (kind === 'artist' && arg) page = await artistView(ctx, arg);
    else if (kind === 'album' && arg) page = await albumView(ctx, arg);
    else page = await homeView(ctx);
  } catch (err) {
    if (err.name === 'AbortError') return;
    if (err instanceof ApiError && (err.code === 40 || err.code === 44)) {
      Subsonic.logout();
      showLogin('Your session has expired; please sign in again.');
      return;
    }
    page = h('div', { class: 'page' }, h('p', { class: 'empty error' }, err.message));
  } finally {
    if (token === renderToken) view.removeAttribute('aria-busy');
  }
  if (token !== renderToken) return; // a newer navigation won the race
  view.replaceChildren(page);
  if (!kind || kind !== 'search') view.scrollTop = 0;
  markCurrent();
}

window.addEventListener('hashchange', render);

let searchTimer = null;
$('#search').addEventListener('input', (e) => {
  clearTimeout(searchTimer);
  const q = e.target.value.trim();
  searchTimer = setTimeout(() => {
    const target = q ? `#/search/${encodeURIComponent(q)}` : '#/';
    // Typing refines one search: replace the history entry instead of stacking one per key.
    if (location.hash.startsWith('#/search/') && q) history.replaceState(null, '', target);
    else history.pushState(null, '', target);
    render();
  }, SEARCH_DELAY_MS);
});
$('#search').addEventListener('keydown', (e) => {
  if (e.key === 'Escape') { e.target.value = ''; e.target.dispatchEvent(new Event('input')); }
});

// ---------- player bar ----------

function setupPlayerBar(player) {
  const audio = player.audio;
  const seek = $('#seek');
  let dragging = false;

  $('#btn-play').addEventListener('click', () => player.toggle());
  $('#btn-next').addEventListener('click', () => player.next());
  $('#btn-prev').addEventListener('click', () => player.previous());
  $('#btn-shuffle').addEventListener('click', () => player.startShuffle().catch((e) => toast(e.message, 'error')));
  $('#btn-queue').addEventListener('click', () => document.body.classList.toggle('queue-open'));
  $('#queue-close').addEventListener('click', () => document.body.classList.remove('queue-open'));
  $('#queue-clear').addEventListener('click', () => player.clear());

  seek.addEventListener('input', () => {
    dragging = true;
    $('#time-cur').textContent = formatTime((seek.value / 1000) * player.duration);
    paintSeek();
  });
  seek.addEventListener('change', () => {
    dragging = false;
    player.seek((seek.value / 1000) * player.duration);
  });
  $('#volume').addEventListener('input', (e) => {
    audio.volume = Number(e.target.value);
    localStorage.setItem('musark.volume', e.target.value);
  });
  const vol = localStorage.getItem('musark.volume');
  if (vol !== null) { audio.volume = Number(vol); $('#volume').value = vol; }

  function paintSeek() {
    seek.style.setProperty('--pct', `${seek.value / 10}%`);
  }

  player.addEventListener('state', () => {
    const playing = player.playing;
    $('#btn-play').innerHTML = playing ? icons.pause : icons.play;
    $('#btn-play').setAttribute('aria-label', playing ? 'Pause' : 'Play');
    document.body.classList.toggle('is-playing', playing);
    const d = player.duration;
    if (!dragging) {
      seek.value = d ? Math.round((audio.currentTime / d) * 1000) : 0;
      $('#time-cur').textContent = formatTime(audio.currentTime);
      paintSeek();
    }
    $('#time-total').textContent = formatTime(d);
  });

  player.addEventListener('track', () => {
    const s = player.current;
    const box = $('#now');
    box.replaceChildren();
    if (!s) {
      document.title = 'musark';
      box.append(h('span', { class: 'now-idle' }, 'Nothing playing'));
      return;
    }
    box.append(
      cover(ctx.api, s.coverArt, s.album || s.title, 96, 'now-cover'),
      h('div', { class: 'now-text' },
        h('a', { class: 'now-title', id: 'now-title', href: s.albumId ? `#/album/${encodeURIComponent(s.albumId)}` : '#/' }, s.title),
        h('a', { class: 'now-artist', href: s.artistId ? `#/artist/${encodeURIComponent(s.artistId)}` : '#/' }, s.artist || '')),
    );
    document.title = `${s.title} · ${s.artist || ''} — musark`;
    markCurrent();
  });

  player.addEventListener('queue', renderQueue);
  player.addEventListener('error', (e) => toast(e.detail.message, 'error'));

  document.addEventListener('keydown', (e) => {
    if (e.target.closest('input, textarea, button, [role=button]')) return;
    if (e.key === ' ') { e.preventDefault(); player.toggle(); }
    else if (e.key === 'ArrowRight' && e.shiftKey) player.next();
    else if (e.key === 'ArrowLeft' && e.shiftKey) player.previous();
    else if (e.key === '/') { e.preventDefault(); $('#search').focus(); }
  });
}

function markCurrent() {
  const id = ctx.player?.current?.id;
  for (const row of document.querySelectorAll('#view .song-row')) {
    row.classList.toggle('current', row.dataset.id === id);
  }
}

function renderQueue() {
  const { player } = ctx;
  const list = $('#queue-list');
  document.body.classList.toggle('shuffle-on', player.shuffle);
  $('#queue-count').textContent = player.queue.length
    ? `${player.queue.length} track${player.queue.length === 1 ? '' : 's'}${player.shuffle ? ' · shuffle' : ''}`
    : '';
  if (!player.queue.length) {
    list.replaceChildren(h('li', { class: 'queue-empty' }, 'The queue is empty. Play an album, a song, or shuffle everything.'));
    return;
  }
  list.replaceChildren(...player.queue.map((s, i) => {
    const ok = isAvailable(s);
    const li = h('li', {
      class: `queue-item${i === player.index ? ' current' : ''}${i < player.index ? ' played' : ''}${ok ? '' : ' unavailable'}`,
      onclick: () => ok && player.jump(i),
    },
    cover(ctx.api, s.coverArt, s.album || s.title, 64, 'q-cover'),
    h('div', { class: 'q-text' }, h('span', { class: 'q-title' }, s.title), h('span', { class: 'q-sub' }, s.artist || '')),
    h('button', { class: 'icon-btn small', title: 'Remove from queue', 'aria-label': `Remove ${s.title}`, onclick: (e) => { e.stopPropagation(); player.remove(i); } }, icon('close')));
    return li;
  }));
  // Scroll only the queue itself (scrollIntoView would also move the page behind it).
  const cur = list.querySelector('.current');
  if (cur && (cur.offsetTop < list.scrollTop || cur.offsetTop + cur.offsetHeight > list.scrollTop + list.clientHeight)) {
    list.scrollTop = cur.offsetTop - list.clientHeight / 3;
  }
}

// ---------- start ----------

function start(api) {
  ctx.api = api;
  if (!ctx.player) {
    ctx.player = new Player(api, $('#audio'));
    setupPlayerBar(ctx.player);
  } else {
    ctx.player.api = api;
  }
  document.body.classList.remove('logged-out');
  $('#user-name').textContent = api.username;
  renderQueue();
  ctx.player.emit('track');
  render();
}

// Icons live once, in dom.js; the static markup only names them.
for (const el of document.querySelectorAll('[data-icon]')) el.innerHTML = icons[el.dataset.icon];

const saved = Subsonic.restore();
if (saved) start(saved);
else showLogin();
