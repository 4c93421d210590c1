/// <reference lib="dom" />
/**
 * Asks `read` every `ms` until `done` says the job ended, `read` fails (handed to `fail`) or `stop()` is called
 * because the view went away.
 */
export function poll<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  each: (value: T) => void,
  fail: (err: unknown) => void,
  ms = 1000,
): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = () =>
    read().then(
      (value) => {
        if (stopped) return;
        each(value);
        if (!done(value)) timer = setTimeout(tick, ms);
      },
      (err) => {
        if (!stopped) fail(err);
      },
    );
  void tick();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
