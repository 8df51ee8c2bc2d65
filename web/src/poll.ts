// Runs a page's `load` now and again every `intervalMs` while the tab is shown (not while it is
// hidden; at once when it is shown again), one load at a time. Returns how to stop.

export function poll(load: () => Promise<void>, intervalMs: number): () => void {
  let timer: number | undefined;
  let stopped = false;
  let running = false;
  const next = () => {
    if (!stopped && !document.hidden) timer = window.setTimeout(() => void run(), intervalMs);
  };
  const run = async () => {
    window.clearTimeout(timer);
    // One load at a time: the one in hand sets the next timer when it is done.
    if (running || stopped) return;
    running = true;
    try {
      await load();
    } finally {
      running = false;
    }
    next();
  };
  const visible = () => {
    if (!document.hidden) void run();
  };
  document.addEventListener('visibilitychange', visible);
  void run();
  return () => {
    stopped = true;
    window.clearTimeout(timer);
    document.removeEventListener('visibilitychange', visible);
  };
}
