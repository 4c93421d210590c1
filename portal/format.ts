/// <reference lib="dom" />
// Times in the browser's own time zone, as the operator reads them.
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export const when = (iso?: string) => (iso ? dateTime.format(new Date(iso)) : '—');

export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${s % 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export const timeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;
