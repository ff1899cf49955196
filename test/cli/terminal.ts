import { spawnSync } from 'node:child_process';

/**
 * Runs a command on a pseudo-terminal (stdin, stdout and stderr are all the terminal), as a user at a
 * shell would, and answers the first `(y/n): ` prompt with `answer` when one is given. Node has no pty
 * of its own; Python's `pty` module (standard library) opens one. Returns undefined without python3.
 */
const DRIVER = String.raw`
import json, os, pty, select, subprocess, sys, time
args, answer, deadline = json.loads(sys.argv[1]), sys.argv[2], time.time() + float(sys.argv[3])
master, slave = pty.openpty()
p = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, close_fds=True, start_new_session=True)
os.close(slave)
out, answered = b'', False
while time.time() < deadline:
    r, _, _ = select.select([master], [], [], 0.1)
    if master in r:
        try:
            data = os.read(master, 65536)
        except OSError:
            data = b''
        if not data:
            break
        out += data
        if answer and not answered and b'(y/n): ' in out:
            os.write(master, answer.encode() + b'\n')
            answered = True
    elif p.poll() is not None:
        break
if p.poll() is None:
    p.kill()
sys.stdout.buffer.write(out)
sys.exit(p.wait())
`;

export function python3Available(): boolean {
  return spawnSync('python3', ['-c', 'import pty'], { encoding: 'utf8' }).status === 0;
}

export function onTerminal(
  args: string[],
  options: { answer?: string; timeoutSeconds?: number; env?: NodeJS.ProcessEnv } = {},
): { code: number | null; text: string } {
  const r = spawnSync('python3', ['-c', DRIVER, JSON.stringify(args), options.answer ?? '', String(options.timeoutSeconds ?? 90)], {
    encoding: 'utf8',
    timeout: ((options.timeoutSeconds ?? 90) + 10) * 1000,
    env: options.env ?? process.env,
  });
  return { code: r.status, text: r.stdout };
}
