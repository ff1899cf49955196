/**
 * Progress on stderr, only when stderr is a terminal (as `az` shows its progress bars); nothing at all
 * when piped, so scripts and logs get no carriage returns. Without a total it is a spinner with the
 * elapsed time; once a total is known it is a counted bar with the estimated time left.
 */
export interface Progress {
  /** `done` of `total` units (the total may be an estimate and may change). */
  update(done: number, total?: number): void;
  /** Clears the line; safe to call more than once. */
  stop(): void;
}

export interface ProgressOptions {
  stream?: Pick<NodeJS.WriteStream, 'write' | 'isTTY' | 'columns'>;
  /** Plural noun of the unit counted, e.g. `resources`. */
  unit?: string;
  now?: () => number;
  /** Redraw interval of the spinner and elapsed time. */
  intervalMs?: number;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const QUIET: Progress = { update: () => undefined, stop: () => undefined };

export function startProgress(label: string, options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  if (!stream.isTTY) return QUIET;
  const now = options.now ?? Date.now;
  const started = now();
  let frame = 0;
  let done = 0;
  let total: number | undefined;
  let stopped = false;
  const draw = () => {
    const width = Math.max(40, Math.min(stream.columns || 80, 120));
    const line = renderProgressLine(
      { label, unit: options.unit ?? 'items', done, total, elapsedMs: now() - started, frame: frame++ },
      width,
    );
    stream.write(`\r${line}\x1b[K`);
  };
  const timer = setInterval(draw, options.intervalMs ?? 100);
  timer.unref();
  draw();
  return {
    update(d, t) {
      if (stopped) return;
      done = d;
      if (t !== undefined) total = t;
      draw();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      stream.write('\r\x1b[K');
    },
  };
}

export interface ProgressState {
  label: string;
  unit: string;
  done: number;
  total?: number;
  elapsedMs: number;
  frame?: number;
}

/** `sweeping [######------] 3,000/11,000 resources 27% · 0:12 elapsed · ETA 0:32` (fits `width`). */
export function renderProgressLine(s: ProgressState, width = 80): string {
  const elapsed = clock(s.elapsedMs);
  if (s.total === undefined || s.total <= 0) {
    const counted = s.done > 0 ? ` ${count(s.done)} ${s.unit}` : '';
    return `${FRAMES[(s.frame ?? 0) % FRAMES.length]} ${s.label}${counted} (${elapsed})`.slice(0, width - 1);
  }
  const total = Math.max(s.total, s.done);
  const fraction = total === 0 ? 1 : s.done / total;
  // Linear estimate from the rate so far; nothing until the first unit is done.
  const eta =
    s.done > 0 && s.done < total ? `ETA ${clock((s.elapsedMs / s.done) * (total - s.done))}` : s.done >= total ? 'done' : 'ETA --:--';
  const tail = ` ${count(s.done)}/${count(total)} ${s.unit} ${Math.floor(fraction * 100)}% · ${elapsed} · ${eta}`;
  const barWidth = Math.max(10, Math.min(40, width - 1 - s.label.length - 3 - tail.length));
  const filled = Math.round(fraction * barWidth);
  return `${s.label} [${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]${tail}`.slice(0, width - 1);
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** `m:ss`, or `h:mm:ss` from an hour. */
function clock(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}
