/** A spinner on stderr while something long runs, only when stderr is a terminal; silent when piped. */
export function startProgress(label: string, stream: NodeJS.WriteStream = process.stderr): () => void {
  if (!stream.isTTY) return () => undefined;
  const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  let i = 0;
  const started = Date.now();
  const timer = setInterval(() => {
    stream.write(`\r${frames[i++ % frames.length]} ${label} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }, 100);
  return () => {
    clearInterval(timer);
    stream.write('\r\x1b[K');
  };
}
