/** What {@link watchParent} saw when the parent went away. */
export interface ParentGone {
  /** The parent pid at the time the watch started. */
  previousPpid: number;
  /** The pid this process was re-parented to (init or a subreaper). */
  ppid: number;
}

/**
 * Calls `onGone` once when this process is re-parented, i.e. the process that
 * started it has exited. Used by `turnpike start --exit-with-parent`: `npm
 * start` runs the gateway through `sh -c`, and a SIGTERM that npm forwards
 * kills that shell but never reaches the gateway, which would otherwise keep
 * serving as an orphan. Polls `process.ppid` (a getppid() call) every
 * `intervalMs`; the timer does not keep the process alive. Returns a function
 * that stops watching.
 */
export function watchParent(onGone: (info: ParentGone) => void, intervalMs = 250): () => void {
  const previousPpid = process.ppid;
  const timer = setInterval(function checkParent() {
    const ppid = process.ppid;
    if (ppid === previousPpid) return;
    clearInterval(timer);
    onGone({ previousPpid, ppid });
  }, intervalMs);
  timer.unref();
  return function stopWatchingParent() {
    clearInterval(timer);
  };
}
