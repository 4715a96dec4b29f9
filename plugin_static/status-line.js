// The header's status line: when the page last heard from the server about new runs and steps, and
// when that last brought something new, so that a live page reads apart from a stuck one.

/** The browser's own clock format, e.g. "14:05:09". */
const localTime = (date) => date.toLocaleTimeString();

/**
 * The status line's text.
 * @param {{checked: Date|null, changed: Date|null, failed: Date|null, pollSeconds: number}} times
 *   `checked`: the last time the server answered the page's check for new runs and steps (the
 *   first load included); `changed`: the last check that found new runs or steps (or the first
 *   load); `failed`: a check since `checked` that got no answer, else null; `pollSeconds`: seconds
 *   between checks, 0 for none
 * @param {(date: Date) => string} [clock] how a time is written
 * @returns {string}
 * @example
 *   const at = (s) => new Date(2026, 0, 1, 14, 5, s);
 *   statusText({ checked: at(30), changed: at(0), failed: null, pollSeconds: 5 })
 *   // "Checked 14:05:30 · nothing new since 14:05:00" (in the browser's clock format)
 */
export function statusText({ checked, changed, failed, pollSeconds }, clock = localTime) {
  if (failed) return checked ? `Check failed ${clock(failed)} · last answer ${clock(checked)}` : `Check failed ${clock(failed)}`;
  if (!checked) return "Loading…";
  if (!(pollSeconds > 0)) return `Loaded ${clock(checked)} · not checking for new data (poll=0)`;
  if (changed && changed.getTime() < checked.getTime() && clock(changed) !== clock(checked)) {
    return `Checked ${clock(checked)} · nothing new since ${clock(changed)}`;
  }
  return `Checked ${clock(checked)}`;
}

/**
 * The status line's tooltip: how often the page checks.
 * @param {number} pollSeconds
 * @returns {string}
 */
export function statusTitle(pollSeconds) {
  return pollSeconds > 0
    ? `The page asks the server for new runs and steps every ${pollSeconds} s (poll=${pollSeconds} in its URL), while it is visible.`
    : "The page does not ask the server for new runs and steps (poll=0 in its URL); reload it to see them.";
}

/**
 * The times {@link statusText} tells, kept as the page's checks go.
 * @param {() => Date} [now]
 * @returns {{times: () => {checked: Date|null, changed: Date|null, failed: Date|null},
 *   answered: (listChanged: boolean) => void, failed: () => void, newData: () => void}}
 *   `answered`: the server answered a check (the run list differs from the last answer's, or not);
 *   `failed`: a check got no answer; `newData`: the last answered check found new steps
 * @example
 *   const checks = createCheckTimes();
 *   checks.answered(true); // the first answer: what the page shows is new
 *   checks.failed(); checks.answered(false); // an answer again, the same runs: nothing new
 */
export function createCheckTimes(now = () => new Date()) {
  const times = { checked: null, changed: null, failed: null };
  return {
    times: () => ({ ...times }),
    answered(listChanged) {
      times.checked = now();
      times.failed = null;
      if (listChanged || times.changed === null) times.changed = times.checked;
    },
    failed() {
      times.failed = now();
    },
    newData() {
      times.changed = times.checked;
    },
  };
}

/**
 * The status line in the page's header, drawn from the check times.
 * @param {Object} options
 * @param {HTMLElement} options.element the status line
 * @param {ReturnType<typeof createCheckTimes>} options.checks
 * @param {number} options.pollSeconds seconds between checks, 0 for none
 * @param {() => string|null} options.listError why the last check failed (see data-source.js)
 * @param {(date: Date) => string} [options.clock] how a time is written
 * @returns {{show: () => void, loading: () => void}} `show`: the times as they are now;
 *   `loading`: the page is loading what it shows
 */
export function createStatusLine({ element, checks, pollSeconds, listError, clock = localTime }) {
  return {
    show() {
      element.classList.remove("busy");
      const times = checks.times();
      element.classList.toggle("error", Boolean(times.failed));
      element.textContent = statusText({ ...times, pollSeconds }, clock);
      element.title = times.failed ? `${listError()}. ${statusTitle(pollSeconds)}` : statusTitle(pollSeconds);
    },
    loading() {
      element.textContent = "Loading…";
      element.classList.add("busy");
    },
  };
}
