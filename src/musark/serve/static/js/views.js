// The pages of the player: home, search results, artist and album. Each returns one element.

import { h, icon } from './dom.js';
import { formatTime, isAvailable, totalDuration } from './songs.js';

function hue(text) {
  let x = 0;
  for (const ch of String(text)) x = (x * 31 + ch.codePointAt(0)) >>> 0;
  return x % 360;
}

/** Cover art with a generated placeholder (initials on a gradient) when there is none. */
export function cover(api, id, name, size = 300, cls = 'cover') {
  const hh = hue(name || id || '?');
  const initials = String(name || '?').trim().split(/\s+/).slice(0, 2).map((w) => [...w][0] || '').join('').toUpperCase();
  const box = h('div', {
    class: `${cls} placeholder`,
    style: `--h1:${hh};--h2:${(hh + 50) % 360}`,
  }, h('span', { class: 'initials' }, initials));
  const url = api.coverUrl(id, size);
  if (url) {
    const img = h('img', { src: url, alt: '', loading: 'lazy', decoding: 'async' });
    img.addEventListener('load', () => box.classList.remove('placeholder'));
    img.addEventListener('error', () => img.remove());
    box.append(img);
  }
  return box;
}

function section(title, ...children) {
  return h('section', { class: 'section' }, h('h2', {}, title), ...children);
}

export function albumGrid(api, albums) {
  return h('div', { class: 'grid' }, albums.map((a) => h('a', { class: 'card album-card', href: `#/album/${encodeURIComponent(a.id)}`, title: a.name },
    cover(api, a.coverArt || a.id, a.name, 300),
    h('div', { class: 'card-title' }, a.name),
    h('div', { class: 'card-sub' }, [a.artist, a.year].filter(Boolean).join(' · ')),
  )));
}

function artistRow(api, artists) {
  return h('div', { class: 'artist-row' }, artists.map((a) => h('a', { class: 'artist-chip', href: `#/artist/${encodeURIComponent(a.id)}` },
    cover(api, a.coverArt, a.name, 96, 'avatar'),
    h('span', {}, a.name),
    a.albumCount ? h('small', {}, `${a.albumCount} album${a.albumCount === 1 ? '' : 's'}`) : null,
  )));
}

function artistLinks(song) {
  const list = song.artists && song.artists.length ? song.artists : [{ id: song.artistId, name: song.artist }];
  return list.filter((a) => a.name).map((a, i) => [i ? ', ' : '', a.id
    ? h('a', { href: `#/artist/${encodeURIComponent(a.id)}`, onclick: (e) => e.stopPropagation() }, a.name)
    : a.name]);
}

/** A table of songs; clicking a playable row plays the whole list from there. */
export function songTable(ctx, songs, { showAlbum = true, numbered = false } = {}) {
  const { player } = ctx;
  const rows = songs.map((s, i) => {
    const ok = isAvailable(s);
    const row = h('div', {
      class: `song-row${ok ? '' : ' unavailable'}`,
      role: 'button',
      tabindex: ok ? '0' : '-1',
      title: ok ? `Play ${s.title}` : 'Not in this mirror: the index lists this track but its file is not here',
      dataset: { id: s.id },
      onclick: () => ok && player.playList(songs, i),
      onkeydown: (e) => { if (ok && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); player.playList(songs, i); } },
    },
    h('span', { class: 'col-num' }, h('span', { class: 'num' }, numbered ? (s.track || i + 1) : i + 1), icon('play', 'icon row-play')),
    h('span', { class: 'col-title' },
      h('span', { class: 'title' }, s.title, ok ? null : h('span', { class: 'badge' }, 'not in mirror')),
      h('span', { class: 'sub' }, artistLinks(s))),
    showAlbum ? h('span', { class: 'col-album' }, s.albumId
      ? h('a', { href: `#/album/${encodeURIComponent(s.albumId)}`, onclick: (e) => e.stopPropagation() }, s.album || '')
      : s.album || '') : null,
    h('span', { class: 'col-time' }, formatTime(s.duration)),
    h('span', { class: 'col-act' }, ok ? h('button', {
      class: 'icon-btn small', title: 'Add to queue', 'aria-label': `Add ${s.title} to queue`,
      onclick: (e) => { e.stopPropagation(); player.enqueue([s]); ctx.toast(`Added “${s.title}” to the queue`); },
    }, icon('plus')) : null),
    );
    if (player.current && player.current.id === s.id) row.classList.add('current');
    return row;
  });
  return h('div', { class: `songs${showAlbum ? '' : ' no-album'}` }, rows);
}

export async function homeView(ctx) {
  const { api, player } = ctx;
  const [newest, random] = await Promise.all([api.albumList('newest', 12), api.albumList('random', 12)]);
  return h('div', { class: 'page' },
    h('div', { class: 'hero' },
      h('div', {},
        h('h1', {}, 'Your archive'),
        h('p', { class: 'muted' }, 'Search above, or let the whole archive surprise you.')),
      h('button', { class: 'btn primary', id: 'shuffle-all', onclick: () => player.startShuffle() }, icon('shuffle'), 'Shuffle everything')),
    newest.length ? section('Recently added', albumGrid(api, newest)) : null,
    random.length ? section('Discover', albumGrid(api, random)) : null,
    !newest.length && !random.length ? h('p', { class: 'empty' }, 'This library is empty.') : null,
  );
}

export async function searchView(ctx, query, signal) {
  const { api } = ctx;
  const r = await api.search(query, { signal });
  const none = !r.artists.length && !r.albums.length && !r.songs.length;
  return h('div', { class: 'page search-results' },
    h('h1', { class: 'page-title' }, 'Results for ', h('q', {}, query)),
    none ? h('p', { class: 'empty' }, 'Nothing found. Try fewer or different words.') : null,
    r.artists.length ? section('Artists', artistRow(api, r.artists)) : null,
    r.albums.length ? section('Albums', albumGrid(api, r.albums)) : null,
    r.songs.length ? section('Songs', songTable(ctx, r.songs)) : null,
  );
}

export async function artistView(ctx, id) {
  const { api, player } = ctx;
  const artist = await api.artist(id);
  const albums = artist.album || [];
  const playAll = async () => {
    const full = await Promise.all(albums.map((a) => api.album(a.id)));
    player.playList(full.flatMap((a) => a.song || []), 0);
  };
  return h('div', { class: 'page' },
    h('div', { class: 'header artist-header' },
      cover(api, artist.coverArt, artist.name, 300, 'cover round'),
      h('div', { class: 'header-text' },
        h('div', { class: 'kicker' }, 'Artist'),
        h('h1', {}, artist.name),
        h('p', { class: 'muted' }, `${albums.length} album${albums.length === 1 ? '' : 's'}`),
        albums.length ? h('div', { class: 'actions' },
          h('button', { class: 'btn primary', id: 'play-artist', onclick: playAll }, icon('play'), 'Play all')) : null)),
    section('Albums', albumGrid(api, albums)),
  );
}

export async function albumView(ctx, id) {
  const { api, player } = ctx;
  const album = await api.album(id);
  const songs = album.song || [];
  const playable = songs.filter(isAvailable).length;
  const missing = songs.length - playable;
  const facts = [
    album.year,
    `${songs.length} track${songs.length === 1 ? '' : 's'}`,
    formatTime(album.duration || totalDuration(songs)),
    missing ? `${missing} not in this mirror` : null,
  ].filter(Boolean).join(' · ');
  return h('div', { class: 'page' },
    h('div', { class: 'header album-header' },
      cover(api, album.coverArt || album.id, album.name, 500, 'cover big'),
      h('div', { class: 'header-text' },
        h('div', { class: 'kicker' }, 'Album'),
        h('h1', { id: 'album-title' }, album.name),
        h('p', { class: 'by' }, album.artistId
          ? h('a', { href: `#/artist/${encodeURIComponent(album.artistId)}` }, album.artist)
          : album.artist),
        h('p', { class: 'muted' }, facts),
        h('div', { class: 'actions' },
          h('button', { class: 'btn primary', id: 'play-album', disabled: playable ? null : true, onclick: () => player.playList(songs, 0) }, icon('play'), 'Play'),
          h('button', { class: 'btn', id: 'queue-album', disabled: playable ? null : true, onclick: () => { player.enqueue(songs.filter(isAvailable)); ctx.toast(`Queued ${playable} tracks`); } }, icon('plus'), 'Add to queue')))),
    songTable(ctx, songs, { showAlbum: false, numbered: true }),
  );
}
