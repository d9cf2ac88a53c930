// The queue and the <audio> element: play/pause/seek/next/previous and endless true shuffle.

import { isAvailable } from './songs.js';

const SHUFFLE_BATCH = 50;

export class Player extends EventTarget {
  constructor(api, audio) {
    super();
    this.api = api;
    this.audio = audio;
    this.queue = [];
    this.index = -1;
    this.shuffle = false; // when on, the queue is refilled from getRandomSongs as it runs out
    this.scrobbled = null;
    audio.addEventListener('ended', () => this.next());
    audio.addEventListener('error', () => {
      if (!this.current) return;
      this.emit('error', { message: `“${this.current.title}” cannot be played; skipping it.` });
      // Moving on only ever goes forward in a finite queue, so a run of broken files ends.
      setTimeout(() => this.next(), 800);
    });
    for (const ev of ['play', 'pause', 'timeupdate', 'durationchange', 'loadedmetadata']) {
      audio.addEventListener(ev, () => this.emit('state'));
    }
    audio.addEventListener('timeupdate', () => this.maybeScrobble());
    this.setupMediaSession();
  }

  emit(type, detail = {}) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  get current() {
    return this.queue[this.index] || null;
  }

  get playing() {
    return !this.audio.paused && !this.audio.ended;
  }

  /** Replace the queue with `songs` and start at `start` (the first playable one from there). */
  playList(songs, start = 0, { shuffle = false } = {}) {
    this.queue = songs.slice();
    this.shuffle = shuffle;
    this.jump(this.nextPlayable(start, 1));
  }

  enqueue(songs) {
    const wasEmpty = this.queue.length === 0;
    this.queue.push(...songs);
    this.emit('queue');
    if (wasEmpty) this.jump(this.nextPlayable(0, 1));
  }

  remove(i) {
    if (i < 0 || i >= this.queue.length) return;
    this.queue.splice(i, 1);
    if (i < this.index) this.index -= 1;
    else if (i === this.index) {
      this.audio.pause();
      this.jump(this.nextPlayable(this.index, 1));
      return;
    }
    this.emit('queue');
  }

  clear() {
    this.queue = [];
    this.index = -1;
    this.shuffle = false;
    this.audio.pause();
    this.audio.removeAttribute('src');
    this.audio.load();
    this.emit('queue');
    this.emit('track');
  }

  async startShuffle() {
    const songs = (await this.api.randomSongs(SHUFFLE_BATCH)).filter(isAvailable);
    if (!songs.length) {
      this.emit('error', { message: 'Nothing to shuffle: no playable tracks in this mirror.' });
      return;
    }
    this.playList(songs, 0, { shuffle: true });
  }

  nextPlayable(from, step) {
    for (let i = from; i >= 0 && i < this.queue.length; i += step) {
      if (isAvailable(this.queue[i])) return i;
    }
    return -1;
  }

  /** Play queue entry `i`; an index outside the queue means there is nothing to play: stop. */
  jump(i) {
    if (i < 0 || i >= this.queue.length) {
      this.index = -1;
      this.audio.pause();
      this.audio.removeAttribute('src');
      this.emit('queue');
      this.emit('track');
      this.emit('state');
      return;
    }
    this.index = i;
    const song = this.queue[i];
    this.audio.src = this.api.streamUrl(song.id);
    this.scrobbled = null;
    const p = this.audio.play();
    if (p) p.catch((e) => {
      // A browser without a user gesture refuses autoplay; the play button still works.
      if (e.name !== 'AbortError') this.emit('state');
    });
    this.emit('queue');
    this.emit('track');
    this.updateMediaSession();
    if (this.shuffle && this.queue.length - i < 5) this.refillShuffle();
  }

  async refillShuffle() {
    if (this.refilling) return;
    this.refilling = true;
    try {
      const more = (await this.api.randomSongs(SHUFFLE_BATCH)).filter(isAvailable);
      this.queue.push(...more);
      this.emit('queue');
    } finally {
      this.refilling = false;
    }
  }

  toggle() {
    if (!this.current) {
      if (this.queue.length) this.jump(this.nextPlayable(0, 1));
      return;
    }
    if (this.audio.paused) this.audio.play().catch(() => {});
    else this.audio.pause();
  }

  next() {
    const i = this.nextPlayable(this.index + 1, 1);
    if (i >= 0) this.jump(i);
    else if (this.shuffle) this.refillShuffle().then(() => this.jump(this.nextPlayable(this.index + 1, 1)));
    else this.emit('state');
  }

  previous() {
    // Like every hardware player: restart the track unless we are at its very beginning.
    if (this.audio.currentTime > 3 || this.index <= 0) {
      this.audio.currentTime = 0;
      return;
    }
    const i = this.nextPlayable(this.index - 1, -1);
    this.jump(i >= 0 ? i : this.index);
  }

  seek(seconds) {
    if (Number.isFinite(seconds)) this.audio.currentTime = Math.max(0, seconds);
  }

  get duration() {
    const d = this.audio.duration;
    if (Number.isFinite(d) && d > 0) return d;
    return this.current?.duration || 0;
  }

  maybeScrobble() {
    const song = this.current;
    if (!song || this.scrobbled === song.id) return;
    const t = this.audio.currentTime;
    if (t > 240 || (this.duration && t > this.duration / 2)) {
      this.scrobbled = song.id;
      this.api.scrobble(song.id, true);
    }
  }

  setupMediaSession() {
    if (!('mediaSession' in navigator)) return;
    const ms = navigator.mediaSession;
    ms.setActionHandler('play', () => this.toggle());
    ms.setActionHandler('pause', () => this.toggle());
    ms.setActionHandler('nexttrack', () => this.next());
    ms.setActionHandler('previoustrack', () => this.previous());
  }

  updateMediaSession() {
    const s = this.current;
    if (!s || !('mediaSession' in navigator) || !window.MediaMetadata) return;
    const art = this.api.coverUrl(s.coverArt, 512);
    navigator.mediaSession.metadata = new MediaMetadata({
      title: s.title,
      artist: s.artist || '',
      album: s.album || '',
      artwork: art ? [{ src: art, sizes: '512x512' }] : [],
    });
  }
}
