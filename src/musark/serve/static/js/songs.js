// Small facts about songs shared by the views and the player.

/**
 * False for a track the published index lists but this mirror does not hold: the server marks
 * such songs with its extension field `musarkAvailable: false` (other servers never set it).
 */
export function isAvailable(song) {
  return !song || song.musarkAvailable !== false;
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
