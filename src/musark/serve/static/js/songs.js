// Small facts about songs shared by the views and the player.

/** False for a track the index lists but this mirror does not hold (the server's `musark` extension). */
export function isAvailable(song) {
  const ext = song && song.musark;
  if (!ext) return true;
  return ext.available !== false;
}

export function formatTime(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return '0:00';
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export function totalDuration(songs) {
  return songs.reduce((sum, s) => sum + (s.duration || 0), 0);
}
