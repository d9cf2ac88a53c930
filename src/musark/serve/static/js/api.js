// Subsonic JSON API client for the same origin: token auth (t = md5(password + salt), s).
// Only the token and its salt are kept in localStorage, never the password itself.

import { md5 } from './md5.js';

const CLIENT = 'musark-web';
const VERSION = '1.16.1';
const STORE = 'musark.session';

export class ApiError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

function randomSalt() {
  const b = new Uint8Array(8);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export class Subsonic {
  constructor(session) {
    this.session = session; // {u, t, s}
  }

  static restore() {
    try {
      const s = JSON.parse(localStorage.getItem(STORE) || 'null');
      return s && s.u && s.t && s.s ? new Subsonic(s) : null;
    } catch {
      return null;
    }
  }

  /** Check the credentials with ping, then remember the session. */
  static async login(username, password) {
    const salt = randomSalt();
    const api = new Subsonic({ u: username, t: md5(password + salt), s: salt });
    await api.call('ping');
    localStorage.setItem(STORE, JSON.stringify(api.session));
    return api;
  }

  static logout() {
    localStorage.removeItem(STORE);
  }

  get username() {
    return this.session.u;
  }

  params(extra = {}) {
    const p = new URLSearchParams({ u: this.session.u, t: this.session.t, s: this.session.s, v: VERSION, c: CLIENT });
    for (const [k, v] of Object.entries(extra)) {
      if (v !== undefined && v !== null) p.set(k, String(v));
    }
    return p;
  }

  url(method, extra = {}) {
    return `rest/${method}?${this.params(extra)}`;
  }

  async call(method, extra = {}, { signal } = {}) {
    const res = await fetch(this.url(method, { ...extra, f: 'json' }), { signal });
    if (!res.ok) throw new ApiError(0, `${method}: HTTP ${res.status}`);
    const body = (await res.json())['subsonic-response'];
    if (!body) throw new ApiError(0, `${method}: not a Subsonic response`);
    if (body.status !== 'ok') {
      const e = body.error || {};
      throw new ApiError(e.code ?? 0, e.message || `${method} failed`);
    }
    return body;
  }

  coverUrl(id, size = 300) {
    return id ? this.url('getCoverArt', { id, size }) : null;
  }

  streamUrl(id) {
    return this.url('stream', { id });
  }

  async search(query, { signal } = {}) {
    const r = await this.call('search3', { query, artistCount: 6, albumCount: 12, songCount: 30 }, { signal });
    const s = r.searchResult3 || {};
    return { artists: s.artist || [], albums: s.album || [], songs: s.song || [] };
  }

  async artist(id) {
    return (await this.call('getArtist', { id })).artist;
  }

  async album(id) {
    return (await this.call('getAlbum', { id })).album;
  }

  async albumList(type, size = 18) {
    return ((await this.call('getAlbumList2', { type, size })).albumList2 || {}).album || [];
  }

  async randomSongs(size = 50) {
    return ((await this.call('getRandomSongs', { size })).randomSongs || {}).song || [];
  }

  async scrobble(id, submission) {
    try {
      await this.call('scrobble', { id, submission });
    } catch {
      // Play counts are a nicety; playback must not stop because of them.
    }
  }
}
